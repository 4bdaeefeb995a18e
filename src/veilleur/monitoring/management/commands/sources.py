"""``veilleur sources list|add|show|test|enable|disable``: manage sources from the shell.

``veilleur sources add KIND --help`` lists the settings of KIND (name, type, whether
required, help); a refused setting lists them too.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from rich.console import Console
from rich.table import Table

from veilleur.accounts.models import Workspace
from veilleur.connectors.base import ConfigInvalid
from veilleur.connectors.registry import KINDS, SHELL_ONLY_KINDS, UnknownKind, get_connector
from veilleur.connectors.secrets import mask_config
from veilleur.monitoring.models import Health, Source, Watch
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


def describe_kind(kind: str) -> str:
    """The settings of ``kind`` as a few lines of text: name, type, required, help."""
    try:
        connector = get_connector(kind)
    except (UnknownKind, ImportError) as exc:
        return str(exc)
    lines = [f"Settings of {kind} ({connector.label}), given as --set NAME=VALUE:"]
    if not connector.fields:
        lines.append("  (none)")
    width = max((len(field.name) for field in connector.fields), default=0)
    for field in connector.fields:
        facts = [field.type, "required" if field.required else "optional"]
        if field.default not in (None, "", []):
            facts.append(f"default {field.default}")
        if field.choices:
            facts.append("one of " + "|".join(key for key, _label in field.choices))
        help_text = " ".join(str(field.help or field.label).split())
        lines.append(f"  {field.name.ljust(width)}  {', '.join(facts)}: {help_text}")
    if any(field.type == "lines" for field in connector.fields):
        lines.append("Settings of type lines take one --set per entry "
                     "(or a JSON list in --config).")
    if any(field.secret for field in connector.fields):
        lines.append("Secret settings are stored encrypted and never shown back.")
    if kind in SHELL_ONLY_KINDS:
        lines.append("This kind reads files on the server: it can only be added from the shell.")
    return "\n".join(lines)


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return json.dumps(value)


class KindHelp(argparse.Action):
    """``-h/--help`` of ``sources add``: the usual help, then the settings of KIND if given."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: Any = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        parser.print_help()
        kind = getattr(namespace, "kind", None)
        if kind:
            sys.stdout.write("\n" + describe_kind(kind) + "\n")
        parser.exit()


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
    repeated: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"--set expects key=value, got {pair!r}")
        repeated.setdefault(key, []).append(value)
    for key, values in repeated.items():
        # A key given several times is a list (settings of type "lines").
        config[key] = values[0] if len(values) == 1 else values
    return config


class Command(BaseCommand):
    help = "List, add, show, test, enable or disable sources."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ls = sub.add_parser("list", help="list sources with their health")
        ls.add_argument("--workspace")
        add = sub.add_parser(
            "add", help="add a source", add_help=False,
            epilog="`veilleur sources add KIND --help` lists the settings of KIND.")
        add.add_argument("-h", "--help", action=KindHelp,
                         help="show this help and the settings of KIND, then exit")
        add.add_argument("kind", help=f"one of: {', '.join(sorted(KINDS))}")
        add.add_argument("name")
        add.add_argument("--workspace")
        add.add_argument("--watch", help="attach every mention of this source to this watch")
        add.add_argument("--config", help="the connector config as a JSON object")
        add.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="one setting of the kind (repeat it; see KIND --help)")
        add.add_argument("--interval", type=int, default=300, help="seconds between polls")
        show = sub.add_parser("show", help="a source's settings (secrets masked) and health")
        show.add_argument("id", type=int)
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
        except UnknownKind as exc:
            raise CommandError(str(exc)) from exc
        except ConfigInvalid as exc:
            raise CommandError(f"{exc}\n\n{describe_kind(options['kind'])}") from exc
        self.stdout.write(self.style.SUCCESS(f"added source {source.pk}: {source}"))
        if source.kind == "webhook":
            # Shown once, like on the source page: senders need both to post.
            from veilleur.hooks.services import endpoint_url, reveal_secret

            self.stdout.write(f"  post to:        {endpoint_url(source)}")
            self.stdout.write(f"  signing secret: {reveal_secret(source)} (shown only now)")

    def _source(self, pk: int) -> Source:
        source = Source.objects.filter(pk=pk).first()
        if source is None:
            raise CommandError(f"no source with id {pk}")
        return source

    def do_show(self, options: dict[str, Any]) -> None:
        source = self._source(options["id"])

        def when(value: Any) -> str:
            return value.isoformat(timespec="seconds") if value else "never"

        if source.health == Health.DISABLED:
            next_poll = "not scheduled (disabled)"
        else:
            next_poll = when(source.next_poll_at)
        rows = [
            ("source", f"{source.pk}: {source}"),
            ("workspace", source.workspace.slug),
            ("health", source.health),
            ("failures in a row", str(source.consecutive_failures)),
            ("last polled", when(source.last_polled_at)),
            ("last success", when(source.last_success_at)),
            ("next poll", next_poll),
            ("poll interval", f"{source.poll_interval} s"),
            ("watch", source.watch.name if source.watch else "-"),
            ("mentions", str(source.mentions.count())),
            ("last error", source.last_error or "-"),
        ]
        for label, value in rows:
            self.stdout.write(f"{label + ':':<19} {value}")
        try:
            fields = get_connector(source.kind).fields
        except (UnknownKind, ImportError):
            self.stdout.write(f"config:             hidden (kind {source.kind!r} is not available)")
            return
        self.stdout.write("config:")
        masked = mask_config(fields, source.config)
        if not masked:
            self.stdout.write("  (empty)")
        for key, value in masked.items():
            self.stdout.write(f"  {key}: {_shown(value)}")

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
