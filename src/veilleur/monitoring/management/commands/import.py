"""``veilleur import FILE --watch WATCH``: load a vendor export or a CSV/JSONL file.

The file becomes a source of kind ``file`` attached to the watch (one per file
path and watch, reused by later imports), and the command polls it through the
ordinary pipeline until the whole file is read: the same normalisation, ids and
storage as every other source, and the same crash safety (each batch is
committed with the cursor that follows it, so running the command again after
an interruption resumes where the last batch ended and stores nothing twice).

Exit status: 0 when the file was read (invalid rows are reported, not fatal),
1 when the import failed part-way, 2 for a usage error (missing file, unknown
workspace or watch, unusable mapping).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from veilleur.accounts.models import Workspace
from veilleur.connectors.base import ConfigInvalid
from veilleur.connectors.file_import import FORMATS, VENDOR_CHOICES, FileImportConnector
from veilleur.connectors.timestamps import DATE_ORDERS
from veilleur.connectors.vendor_formats import MappingError, load_mapping_file
from veilleur.monitoring.models import Health, Source, Watch
from veilleur.monitoring.pipeline import PollReport, poll_source
from veilleur.monitoring.sources import create_source, set_enabled

USAGE_ERROR = 2
IMPORT_FAILED = 1
# A file source is read by this command; the scheduler only needs to look again
# now and then (a file that grew is read on, an unchanged one costs a stat).
POLL_INTERVAL = 3600
STALE_RETRIES = 5
SHOWN_REASONS = 5
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _safe(text: object, limit: int = 300) -> str:
    """Text from the file, fit for a terminal: no control or bidi characters, bounded."""
    cleaned = _CONTROL.sub("?", str(text))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


HELP = gettext_noop(
    "Import a CSV or JSON-lines file (Brandwatch, Talkwalker or Mention export, or any "
    "file with a column mapping) into a watch."
)


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser: CommandParser) -> None:
        parser.description = _(HELP)  # translated at run time, in the active language
        parser.add_argument("file", help=_("the CSV or JSONL file to import"))
        parser.add_argument("--watch", required=True,
                            help=_("the watch the mentions belong to (its name)"))
        parser.add_argument("--workspace",
                            help=_("workspace slug (optional when there is only one)"))
        parser.add_argument("--create-watch", action="store_true",
                            help=_("create the watch, with its name as query"))
        parser.add_argument("--vendor", choices=VENDOR_CHOICES, default="auto",
                            help=_("the export's vendor (default: detect it)"))
        parser.add_argument("--mapping", metavar="FILE",
                            help=_('JSON or TOML file: {"text": "Body", ...}'))
        parser.add_argument("--format", choices=FORMATS, default="auto")
        parser.add_argument("--encoding", default="auto",
                            help=_("file encoding (default: detect UTF-8/Windows-1252)"))
        parser.add_argument("--lang", default="",
                            help=_("language of rows that do not say (fr, en...)"))
        parser.add_argument("--timezone", default="UTC",
                            help=_("time zone of dates without one (default UTC)"))
        parser.add_argument("--date-order", choices=("auto", *DATE_ORDERS), default="auto",
                            help=_("how to read ambiguous dates like 05/03/2024"))
        parser.add_argument("--platform", default="",
                            help=_("platform of rows that do not say"))
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--restart", action="store_true",
                            help=_("read the file again from its first row"))
        parser.add_argument("--no-progress", action="store_true",
                            help=_("no progress bar"))

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"]).expanduser().resolve()
        if not path.is_file():
            raise CommandError(_("file not found: %(path)s") % {"path": path},
                               returncode=USAGE_ERROR)
        config = self._config(path, options)
        workspace = self._workspace(options["workspace"])
        watch = self._watch(workspace, options["watch"], options["create_watch"])
        source = self._source(workspace, watch, path, config, options["restart"])
        started = time.monotonic()
        totals = self._run(source, not options["no_progress"])
        self._summary(Source.objects.get(pk=source.pk), totals, time.monotonic() - started)

    # --- arguments -----------------------------------------------------------------

    def _config(self, path: Path, options: dict[str, Any]) -> dict[str, Any]:
        config: dict[str, Any] = {
            "path": str(path), "format": options["format"], "vendor": options["vendor"],
            "encoding": options["encoding"], "lang": options["lang"],
            "timezone": options["timezone"], "date_order": options["date_order"],
            "platform": options["platform"], "batch_size": options["batch_size"],
        }
        if options["mapping"]:
            try:
                config["mapping"] = load_mapping_file(options["mapping"])
            except MappingError as exc:
                raise CommandError(str(exc), returncode=USAGE_ERROR) from None
        try:
            return FileImportConnector().validate_config(config)
        except ConfigInvalid as exc:
            raise CommandError(str(exc), returncode=USAGE_ERROR) from None

    def _workspace(self, name: str | None) -> Workspace:
        if name:
            workspace = (Workspace.objects.filter(slug=name).first()
                         or Workspace.objects.filter(name=name).first())
            if workspace is None:
                known = ", ".join(Workspace.objects.values_list("slug", flat=True)) or "-"
                raise CommandError(
                    _("no workspace “%(name)s”; existing: %(known)s")
                    % {"name": _safe(name, 60), "known": known},
                    returncode=USAGE_ERROR,
                )
            return workspace
        workspaces = list(Workspace.objects.all()[:2])
        if len(workspaces) == 1:
            return workspaces[0]
        if not workspaces:
            raise CommandError(
                _("no workspace yet: create one with `veilleur createuser --workspace NAME`"),
                returncode=USAGE_ERROR,
            )
        known = ", ".join(Workspace.objects.values_list("slug", flat=True))
        raise CommandError(
            _("several workspaces exist (%(known)s): choose one with --workspace")
            % {"known": known},
            returncode=USAGE_ERROR,
        )

    def _watch(self, workspace: Workspace, name: str, create: bool) -> Watch:
        watch = Watch.objects.for_workspace(workspace).filter(name__iexact=name.strip()).first()
        if watch is not None:
            return watch
        if create:
            term = name.strip().replace('"', "")
            query = f'"{term}"' if " " in term else term
            watch = Watch.objects.create(workspace=workspace, name=name.strip()[:120], query=query)
            self.stdout.write(_("created watch %(name)s") % {"name": watch.name})
            return watch
        known = ", ".join(
            Watch.objects.for_workspace(workspace).values_list("name", flat=True)
        ) or _("none yet")
        raise CommandError(
            _("no watch “%(name)s” in %(workspace)s; existing watches: %(known)s "
              "(or pass --create-watch)")
            % {"name": _safe(name, 120), "workspace": workspace.slug, "known": known},
            returncode=USAGE_ERROR,
        )

    def _source(self, workspace: Workspace, watch: Watch, path: Path, config: dict[str, Any],
                restart: bool) -> Source:
        """The file source for this path and watch: reused, or created."""
        candidates = Source.objects.for_workspace(workspace).filter(kind="file", watch=watch)
        existing = [s for s in candidates if s.config.get("path") == str(path)]
        if not existing:
            name = self._source_name(workspace, path)
            return create_source(workspace, "file", name, config, watch=watch,
                                 poll_interval=POLL_INTERVAL, from_shell=True)
        source = existing[0]
        if source.config != config:
            # The connector notices the new settings and reads the file again from
            # the start; rows already stored are skipped by their ids.
            Source.objects.filter(pk=source.pk).update(config=config)
        if restart:
            Source.objects.filter(pk=source.pk).update(
                cursor=None, cursor_version=F("cursor_version") + 1)
        source.refresh_from_db()
        if source.health == Health.DISABLED:
            set_enabled(source, True, actor="veilleur import")
        return source

    @staticmethod
    def _source_name(workspace: Workspace, path: Path) -> str:
        base = _("import: %(file)s") % {"file": path.name}
        base = base[:110]
        name, n = base, 1
        while Source.objects.for_workspace(workspace).filter(name=name).exists():
            n += 1
            name = f"{base} ({n})"
        return name

    # --- the import loop -----------------------------------------------------------------

    def _run(self, source: Source, show_progress: bool) -> PollReport:
        totals = PollReport(source_id=source.pk)
        console = Console(file=sys.stderr)
        show_progress = show_progress and console.is_terminal
        progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[rows]} " + _("rows") + " · {task.fields[rate]}/s"),
            TimeElapsedColumn(), console=console, disable=not show_progress,
        )
        started = time.monotonic()
        stale = 0
        with progress:
            label = escape(_safe(Path(source.config["path"]).name, 40))  # no rich markup
            task = progress.add_task(label, total=None,
                                     rows=0, rate=0)
            while True:
                report = poll_source(source.pk)
                totals.fetched += report.fetched
                totals.stored += report.stored
                totals.skipped += report.skipped
                totals.invalid += report.invalid
                totals.invalid_reasons.extend(report.invalid_reasons[:SHOWN_REASONS])
                if report.error:
                    if report.error.startswith("another poll") and stale < STALE_RETRIES:
                        stale += 1  # a scheduled poll of the same source won the race
                        continue
                    totals.error = report.error
                    break
                cursor = Source.objects.values_list("cursor", flat=True).get(pk=source.pk) or {}
                rows = int(cursor.get("row", 0))
                rate = int(totals.fetched / max(time.monotonic() - started, 1e-6))
                progress.update(task, total=cursor.get("size") or None,
                                completed=cursor.get("offset", 0), rows=rows, rate=rate)
                if not report.more:
                    break
        return totals

    def _summary(self, source: Source, totals: PollReport, elapsed: float) -> None:
        cursor = source.cursor if isinstance(source.cursor, dict) else {}
        out = self.stdout
        if totals.error:
            raise CommandError(
                _("import of %(file)s failed: %(error)s")
                % {"file": Path(source.config["path"]).name, "error": _safe(totals.error)},
                returncode=IMPORT_FAILED,
            )
        invalid = int(cursor.get("invalid", 0)) + totals.invalid
        rate = totals.fetched / elapsed if elapsed > 0 else 0.0
        if totals.fetched == 0 and not cursor.get("invalid") and cursor.get("done"):
            out.write(_("Nothing new: %(file)s was already imported into %(watch)s "
                        "(use --restart to read it again).")
                      % {"file": Path(source.config["path"]).name, "watch": source.watch})
        out.write(_("Format: %(vendor)s, %(encoding)s") % {
            "vendor": cursor.get("vendor", "?"), "encoding": cursor.get("encoding", "?")})
        out.write(_("Rows read: %(rows)d") % {"rows": int(cursor.get("row", 0))})
        out.write(self.style.SUCCESS(_("Stored: %(n)d") % {"n": totals.stored}))
        out.write(_("Skipped (already stored): %(n)d") % {"n": totals.skipped})
        out.write(_("Invalid rows: %(n)d") % {"n": invalid})
        reasons = [*cursor.get("errors", [])[:SHOWN_REASONS], *totals.invalid_reasons]
        for reason in reasons[:SHOWN_REASONS]:
            out.write("  - " + _safe(reason))
        if invalid > SHOWN_REASONS:
            out.write("  " + _("(first %(n)d reasons shown)") % {"n": SHOWN_REASONS})
        out.write(_("Elapsed: %(seconds).1f s (%(rate)d rows/s)")
                  % {"seconds": elapsed, "rate": int(rate)})
