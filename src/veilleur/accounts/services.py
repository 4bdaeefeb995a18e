"""Workspace access rules, used by views, the API and the CLI alike."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from veilleur.accounts.models import Membership, Role, User, Workspace


class AccessDenied(Exception):
    """The user has no (sufficient) role in the workspace."""


def workspaces_of(user: User) -> list[Workspace]:
    """The workspaces a user belongs to, by name."""
    if not user.is_authenticated:
        return []
    return list(Workspace.objects.filter(members__user=user).order_by("name"))


def role_in(user: User, workspace: Workspace) -> Role | None:
    """The user's role in the workspace, or None for an outsider."""
    if not user.is_authenticated:
        return None
    role = (
        Membership.objects.filter(user=user, workspace=workspace)
        .values_list("role", flat=True)
        .first()
    )
    return Role(role) if role else None


def require_role(user: User, workspace: Workspace, minimum: Role = Role.VIEWER) -> Role:
    """Return the user's role or raise AccessDenied when it is below ``minimum``."""
    role = role_in(user, workspace)
    if role is None or not role.at_least(minimum):
        raise AccessDenied(f"{user} lacks {minimum} in {workspace}")
    return role


@transaction.atomic
def create_workspace(
    name: str,
    owner: User | None = None,
    languages: list[str] | None = None,
    slug: str | None = None,
) -> Workspace:
    """Create a workspace with a unique slug and, optionally, its first owner."""
    base = slug or slugify(name)[:50] or "workspace"
    candidate, n = base, 1
    while Workspace.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    workspace = Workspace.objects.create(
        name=name, slug=candidate, languages=languages or ["fr", "en"]
    )
    if owner is not None:
        Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    return workspace


def add_member(workspace: Workspace, user: User, role: str) -> Membership:
    """Give ``user`` the ``role`` in ``workspace`` (updating an existing membership)."""
    membership, _ = Membership.objects.update_or_create(
        user=user, workspace=workspace, defaults={"role": Role(role)}
    )
    return membership
