"""Template context shared by every page: the current workspace and the switcher list."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from veilleur.accounts.services import role_in, workspaces_of


def workspace(request: HttpRequest) -> dict[str, Any]:
    current = getattr(request, "workspace", None)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"workspace": None, "workspaces": [], "role": None}
    return {
        "workspace": current,
        "workspaces": workspaces_of(user),
        "role": role_in(user, current) if current else None,
    }
