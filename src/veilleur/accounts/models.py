"""Users, workspaces (a brand, or a client of an agency), memberships and API tokens.

Every piece of monitored data belongs to exactly one workspace; a user reaches it
only through a :class:`Membership`, whose role says what they may do there.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in. ``language`` is their interface choice (empty: browser)."""

    language = models.CharField(_("language"), max_length=8, blank=True, choices=settings.LANGUAGES)


class Workspace(models.Model):
    """A monitored brand or person; the unit of isolation and of permissions."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    languages = models.JSONField(
        _("languages"), default=list, help_text=_("Languages monitored, e.g. fr, en.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("workspace")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """What a member may do, from most to least powerful."""

    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    RESPONDER = "responder", _("Responder")
    VIEWER = "viewer", _("Viewer")

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def at_least(self, other: Role) -> bool:
        """True when this role includes every right of ``other``."""
        return self.rank >= Role(other).rank


_RANKS = {Role.VIEWER: 0, Role.RESPONDER: 1, Role.MANAGER: 2, Role.OWNER: 3}


class Membership(models.Model):
    """A user's role in a workspace."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.workspace} ({self.role})"


TOKEN_PREFIX = "vl_"  # noqa: S105 (a public marker, not a secret)


def hash_token(raw: str) -> str:
    """Tokens are 256-bit random strings, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    """A per-workspace API token. Only its hash is stored; the raw value is shown once."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(_("name"), max_length=80)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.VIEWER)
    digest = models.CharField(max_length=64, unique=True)
    # The first characters, kept in clear so an operator can tell tokens apart.
    hint = models.CharField(max_length=12)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(
        cls,
        workspace: Workspace,
        name: str,
        role: str = Role.VIEWER,
        created_by: User | None = None,
    ) -> tuple[ApiToken, str]:
        """Create a token; return it with the raw secret, which is never stored."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            workspace=workspace,
            name=name,
            role=role,
            digest=hash_token(raw),
            hint=raw[:10],
            created_by=created_by,
        )
        return token, raw

    @classmethod
    def authenticate(cls, raw: str) -> ApiToken | None:
        """The live token matching ``raw``, or None."""
        if not raw.startswith(TOKEN_PREFIX):
            return None
        token = (
            cls.objects.select_related("workspace")
            .filter(digest=hash_token(raw), revoked_at__isnull=True)
            .first()
        )
        if token is not None:
            cls.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token
