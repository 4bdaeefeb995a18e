"""``veilleur poll [ID ...] [--all]``: poll sources now, in this process.

Without an id, every source that is due polls once (claimed like the scheduler
does, so a running scheduler does not poll it at the same time). With ids, those
sources poll now even if they are not due; a disabled one is not polled (enable it
first). ``--all`` polls every enabled source, due or not. One line per source says
what came in; the exit status is 1 when a polled source failed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from veilleur.monitoring.models import Health, Source
from veilleur.monitoring.pipeline import PollReport, poll_source
from veilleur.monitoring.scheduler import claim, due_source_ids


class Command(BaseCommand):
    help = (
        "Poll sources now and print what each one brought: every due source, the sources "
        "given by id (even if not due), or --all enabled sources. Exit status 1 when one failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, metavar="ID",
                            help="the sources to poll now (see `veilleur sources list`)")
        parser.add_argument("--all", action="store_true",
                            help="poll every enabled source, due or not")

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[int] = options["ids"]
        if ids and options["all"]:
            raise CommandError("give source ids or --all, not both")
        now = timezone.now()
        if ids:
            sources = self._named(ids)
        elif options["all"]:
            sources = list(Source.objects.exclude(health=Health.DISABLED).order_by("pk"))
        else:
            sources = []
            for pk in due_source_ids(now, limit=10_000):
                if claim(pk, now):
                    sources.append(Source.objects.get(pk=pk))
            if not sources:
                self.stdout.write("no source is due")
                return
        failed = 0
        for source in sources:
            report = poll_source(source.pk)
            if self._failed(report):
                failed += 1
            self.stdout.write(self._line(source, report))
        if failed:
            raise CommandError(f"{failed} of {len(sources)} source(s) failed", returncode=1)

    def _named(self, ids: list[int]) -> list[Source]:
        found = Source.objects.in_bulk(ids)
        missing = [str(pk) for pk in ids if pk not in found]
        if missing:
            raise CommandError(f"no source with id {', '.join(missing)}")
        disabled = [found[pk] for pk in ids if found[pk].health == Health.DISABLED]
        if disabled:
            names = ", ".join(f"{s.pk} ({s.name})" for s in disabled)
            raise CommandError(
                f"source {names} is disabled: enable it first (`veilleur sources enable ID`)")
        return [found[pk] for pk in dict.fromkeys(ids)]

    @staticmethod
    def _failed(report: PollReport) -> bool:
        return bool(report.error) and report.health != Health.OK

    def _line(self, source: Source, report: PollReport) -> str:
        counts = (f"fetched {report.fetched}, stored {report.stored}, skipped {report.skipped}, "
                  f"copies {report.copies}, invalid {report.invalid}")
        line = f"{source.pk} {source.name} ({source.kind}): {counts}; health {report.health}"
        if report.more:
            line += "; more waiting (polled again at once by the scheduler)"
        if report.error:
            line += f"; error: {report.error}"
        style = self.style.ERROR if self._failed(report) else self.style.SUCCESS
        return style(line)
