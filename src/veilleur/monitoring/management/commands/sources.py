"""``veilleur sources list|add|test|enable|disable``: manage sources from the shell."""

from __future__ import annotations

import io
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from rich.console import Console
from rich.table import Table

from veilleur.accounts.models import Workspace
from veilleur.connectors.base import ConfigInvalid
from veilleur.connectors.registry import KINDS, UnknownKind
from veilleur.monitoring.models import Source, Watch
from veilleur.monitoring.sources import create_source, set_enabled, test_source


def resolve_workspace(slug: str | None) -> Workspace:
    """The workspace named by ``slug``, or the only one when there is just one."""
    if slug:
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            known = ", ".join(Workspace.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"no workspace {slug!r}; existing: {known}")
        return workspace
    workspaces = list(Workspace.objects.all()[:2])
    if len(workspaces) == 1:
        return workspaces[0]
    if not workspaces:
        raise CommandError("no workspace yet: create one with `veilleur createuser --workspace`")
    raise CommandError("several workspaces exist: choose one with --workspace SLUG")


def _parse_config(raw: str | None, pairs: list[str]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if raw:
        try:
            loaded = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--config is not valid JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise CommandError("--config must be a JSON object")
        config.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"--set expects key=value, got {pair!r}")
        config[key] = value
    return config


class Command(BaseCommand):
    help = "List, add, test, enable or disable sources."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ls = sub.add_parser("list", help="list sources with their health")
        ls.add_argument("--workspace")
        add = sub.add_parser("add", help="add a source")
        add.add_argument("kind", help=f"one of: {', '.join(sorted(KINDS))}")
        add.add_argument("name")
        add.add_argument("--workspace")
        add.add_argument("--watch", help="attach every mention of this source to this watch")
        add.add_argument("--config", help="the connector config as a JSON object")
        add.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
        add.add_argument("--interval", type=int, default=300, help="seconds between polls")
        test = sub.add_parser("test", help="fetch once without storing and show a sample")
        test.add_argument("id", type=int)
        for verb in ("enable", "disable"):
            p = sub.add_parser(verb, help=f"{verb} a source")
            p.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "do_" + options["action"])(options)

    def do_list(self, options: dict[str, Any]) -> None:
        workspace = resolve_workspace(options["workspace"])
        table = Table(title=f"Sources of {workspace.name}")
        for column in ("id", "name", "kind", "health", "mentions", "last success", "last error"):
            table.add_column(column)
        sources = Source.objects.for_workspace(workspace).annotate(n=Count("mentions"))
        for s in sources:
            table.add_row(
                str(s.pk),
                s.name,
                s.kind,
                s.health,
                str(s.n),
                s.last_success_at.isoformat(timespec="seconds") if s.last_success_at else "-",
                (s.last_error[:60] + "…") if len(s.last_error) > 60 else s.last_error,
            )
        # Render to text so the output goes through self.stdout (and call_command's capture).
        console = Console(file=io.StringIO(), width=120, record=True)
        console.print(table)
        self.stdout.write(console.export_text(), ending="")

    def do_add(self, options: dict[str, Any]) -> None:
        workspace = resolve_workspace(options["workspace"])
        watch = None
        if options["watch"]:
            watch = Watch.objects.for_workspace(workspace).filter(name=options["watch"]).first()
            if watch is None:
                raise CommandError(f"no watch {options['watch']!r} in {workspace.slug}")
        if Source.objects.for_workspace(workspace).filter(name=options["name"]).exists():
            raise CommandError(f"a source named {options['name']!r} already exists")
        config = _parse_config(options["config"], options["set"])
        try:
            source = create_source(
                workspace, options["kind"], options["name"], config, watch, options["interval"],
                from_shell=True,
            )
        except (UnknownKind, ConfigInvalid) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"added source {source.pk}: {source}"))

    def _source(self, pk: int) -> Source:
        source = Source.objects.filter(pk=pk).first()
        if source is None:
            raise CommandError(f"no source with id {pk}")
        return source

    def do_test(self, options: dict[str, Any]) -> None:
        source = self._source(options["id"])
        result = test_source(source)
        if not result.ok:
            kind = "permanent" if result.permanent else "transient"
            raise CommandError(f"{source}: {kind} error: {result.error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{source}: OK, {len(result.items)} sample item(s), {result.invalid} invalid"
            )
        )
        for item in result.items:
            text = item.text.replace("\n", " ")
            self.stdout.write(
                f"  {item.published_at:%Y-%m-%d %H:%M} {item.author_handle}: {text[:100]}"
            )

    def do_enable(self, options: dict[str, Any]) -> None:
        self._set_enabled(options["id"], True)

    def do_disable(self, options: dict[str, Any]) -> None:
        self._set_enabled(options["id"], False)

    def _set_enabled(self, pk: int, enabled: bool) -> None:
        source = self._source(pk)
        if not set_enabled(source, enabled, actor="cli"):
            state = "enabled" if enabled else "disabled"
            raise CommandError(f"{source} is already {state}")
        self.stdout.write(f"{source}: {'enabled' if enabled else 'disabled'}")
