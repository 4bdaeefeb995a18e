"""Request-level context: the interface language and the current workspace."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from veilleur.accounts.models import Workspace
from veilleur.accounts.services import workspaces_of

SESSION_KEY = "workspace_id"


class UserLanguageMiddleware:
    """A logged-in user's saved language wins over the cookie and the browser."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class CurrentWorkspaceMiddleware:
    """Sets ``request.workspace`` to the session's workspace, if the user is a member.

    The session only stores an id; membership is checked on every request so a
    revoked member loses access at once.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.workspace = current_workspace(request)  # type: ignore[attr-defined]
        return self.get_response(request)


def current_workspace(request: HttpRequest) -> Workspace | None:
    user = request.user
    if not user.is_authenticated:
        return None
    wanted = request.session.get(SESSION_KEY)
    mine = Workspace.objects.filter(members__user=user)
    workspace = mine.filter(pk=wanted).first() if wanted else None
    if workspace is None:
        workspace = mine.order_by("name").first()
    return workspace


__all__ = [
    "SESSION_KEY",
    "CurrentWorkspaceMiddleware",
    "UserLanguageMiddleware",
    "current_workspace",
    "workspaces_of",
]
