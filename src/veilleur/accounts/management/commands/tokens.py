"""``veilleur tokens``: create, list and revoke workspace API tokens.

The raw token is printed once, on the last line of ``create``'s output, so a
script can take it with ``tail -n 1``; only its hash is stored.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from veilleur.accounts.models import ApiToken, Role, Workspace

MAX_NAME_CHARS = ApiToken._meta.get_field("name").max_length or 80


def _workspace(slug: str) -> Workspace:
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        known = ", ".join(Workspace.objects.values_list("slug", flat=True)[:20]) or "none"
        raise CommandError(f"no workspace with slug {slug!r} (known: {known})")
    return workspace


def _printable(text: str) -> str:
    # Names are shown in a terminal: control characters must not reach it.
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


class Command(BaseCommand):
    help = "Manage API tokens: create (prints the token once), list, revoke."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="issue a token for a workspace")
        create.add_argument("--workspace", required=True, help="workspace slug")
        create.add_argument("--name", required=True, help="what the token is for, e.g. 'grafana'")
        create.add_argument(
            "--role", choices=[r.value for r in Role], default=Role.VIEWER.value,
            help="what the token may do (default: viewer)",
        )
        listing = actions.add_parser("list", help="list a workspace's tokens")
        listing.add_argument("--workspace", required=True, help="workspace slug")
        revoke = actions.add_parser("revoke", help="revoke a token by id (see list)")
        revoke.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(options["workspace"], options["name"], options["role"])
        elif action == "list":
            self._list(options["workspace"])
        else:
            self._revoke(options["id"])

    def _create(self, slug: str, name: str, role: str) -> None:
        name = name.strip()
        if not name or len(name) > MAX_NAME_CHARS:
            raise CommandError(f"--name must be 1 to {MAX_NAME_CHARS} characters")
        workspace = _workspace(slug)
        token, raw = ApiToken.issue(workspace, name, role=Role(role))
        self.stdout.write(
            f"created token #{token.pk} {name!r} ({role}) for {workspace.slug}; "
            "it is shown once, store it now:"
        )
        self.stdout.write(raw)

    def _list(self, slug: str) -> None:
        workspace = _workspace(slug)
        tokens = ApiToken.objects.filter(workspace=workspace).order_by("pk")
        if not tokens:
            self.stdout.write(f"no tokens in {workspace.slug}")
            return
        self.stdout.write(f"{'id':>5}  {'name':<24} {'role':<10} {'hint':<12} "
                          f"{'created':<16} {'last used':<16} state")
        for t in tokens:
            state = f"revoked {_when(t.revoked_at)}" if t.revoked_at else "active"
            self.stdout.write(
                f"{t.pk:>5}  {_printable(t.name)[:24]:<24} {t.role:<10} {t.hint + '…':<12} "
                f"{_when(t.created_at):<16} {_when(t.last_used_at):<16} {state}"
            )

    def _revoke(self, token_id: int) -> None:
        token = ApiToken.objects.select_related("workspace").filter(pk=token_id).first()
        if token is None:
            raise CommandError(f"no token with id {token_id}")
        if token.revoked_at is not None:
            self.stdout.write(f"token #{token.pk} was already revoked at {_when(token.revoked_at)}")
            return
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        self.stdout.write(f"revoked token #{token.pk} {token.name!r} of {token.workspace.slug}")
