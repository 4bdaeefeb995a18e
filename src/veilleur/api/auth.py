"""Who is calling the API, in which workspace, with which role.

Two ways in, tried in this order:

1. ``Authorization: Bearer vl_...``: an :class:`~veilleur.accounts.models.ApiToken`.
   The token belongs to one workspace and carries its own role; that workspace is
   the scope of every call.
2. A logged-in browser session plus ``?workspace=<slug>``: the user's membership
   in that workspace gives the role. Unsafe methods need Django's CSRF token
   (``X-CSRFToken`` header), as any session-authenticated write would.

Each successful check leaves a :class:`Caller` in ``request.auth``; routes call
:func:`caller_of` and :func:`require_role` and never look at users or tokens
themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.http import HttpRequest
from ninja.security import APIKeyQuery, HttpBearer
from ninja.utils import check_csrf

from veilleur.accounts.models import ApiToken, Role, User, Workspace
from veilleur.accounts.services import role_in


class ApiError(Exception):
    """An error answered as ``{"detail": message}`` with ``status``."""

    status = 400

    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status


class NotAuthenticated(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


@dataclass(frozen=True)
class Caller:
    """The authenticated party of one request."""

    workspace: Workspace
    role: Role
    # Recorded in audit trails (source events): "token:<name>" or the username.
    actor: str
    user: User | None = None
    token: ApiToken | None = None


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``; the token's workspace is the scope."""

    openapi_description = (
        "A workspace API token (veilleur tokens create); its workspace is the scope "
        "of every call and its role decides what it may do."
    )

    def authenticate(self, request: HttpRequest, token: str) -> Caller:
        api_token = ApiToken.authenticate(token.strip())
        if api_token is None:
            # A client that sends a token means to use it: answer 401 rather than
            # silently falling back to a session cookie it may also carry.
            raise NotAuthenticated("invalid or revoked API token")
        wanted = request.GET.get("workspace")
        if wanted and wanted != api_token.workspace.slug:
            raise ApiError(
                f"this token belongs to workspace {api_token.workspace.slug!r}; "
                "drop the workspace parameter or use a token of that workspace"
            )
        return Caller(
            workspace=api_token.workspace,
            role=Role(api_token.role),
            actor=f"token:{api_token.name}"[:150],
            token=api_token,
        )


class WorkspaceSession(APIKeyQuery):
    """A logged-in session; ``?workspace=<slug>`` names a workspace the user belongs to.

    Declared in OpenAPI as an API key in the query, so the interactive docs can
    send it with every request while the browser sends the session cookie.
    """

    param_name = "workspace"
    openapi_description = (
        "For a logged-in browser session: the slug of a workspace you belong to. "
        "POST also needs the X-CSRFToken header."
    )
    # Read by ninja's docs page: add the X-CSRFToken header to "Try it out" calls.
    csrf = True

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        if not request.user.is_authenticated:
            return None
        user = cast(User, request.user)
        if not key:
            raise ApiError(
                "the workspace query parameter (a workspace slug) is required "
                "with session authentication"
            )
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and check_csrf(request):
            raise Forbidden("CSRF check failed: send the X-CSRFToken header")
        # One answer for "no such workspace" and "not yours": existence never leaks.
        workspace = Workspace.objects.filter(slug=key).first()
        role = role_in(user, workspace) if workspace is not None else None
        if workspace is None or role is None:
            raise NotFound("workspace not found")
        return Caller(workspace=workspace, role=role, actor=user.get_username(), user=user)


AUTH = [BearerToken(), WorkspaceSession()]


def caller_of(request: HttpRequest) -> Caller:
    """The request's :class:`Caller` (set by ninja once an AUTH check passed)."""
    caller: Any = getattr(request, "auth", None)
    if not isinstance(caller, Caller):  # a route declared without auth: a programming error
        raise NotAuthenticated("authentication required")
    return caller


def require_role(request: HttpRequest, minimum: Role) -> Caller:
    """The caller, or 403 when their role is below ``minimum``."""
    caller = caller_of(request)
    if not caller.role.at_least(minimum):
        raise Forbidden(f"this action needs the {minimum.value} role or higher")
    return caller
