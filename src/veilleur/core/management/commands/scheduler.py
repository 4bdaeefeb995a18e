"""``veilleur scheduler``: enqueue the poll of every due source, every few seconds."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from veilleur.core.processes import StopFlag, run_scheduler, watch_parent

log = logging.getLogger("veilleur.scheduler")


class Command(BaseCommand):
    help = (
        "Claim due sources and enqueue their polls every VEILLEUR_SCHEDULER_INTERVAL seconds. "
        "With the immediate task backend the polls run inside this process. Safe to run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run one pass, then exit")
        parser.add_argument(
            "--interval", type=float, default=None,
            help="seconds between passes (default VEILLEUR_SCHEDULER_INTERVAL)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval = options["interval"] or settings.CONFIG.scheduler_interval
        if interval <= 0:
            raise CommandError("--interval: expected a positive number of seconds")
        # SIGINT/SIGTERM only set a flag: the pass in progress (and, with the immediate
        # backend, the polls it runs) completes, then the loop ends and we exit 0.
        if settings.CONFIG.task_backend == "immediate" and options["verbosity"] < 2:
            # Polls run inline here: two INFO lines per poll every few seconds would
            # drown everything else this process says.
            logging.getLogger("django_tasks").setLevel(logging.WARNING)
        stop = StopFlag().install()
        watch_parent()
        if not options["once"]:
            self.stdout.write(
                f"veilleur scheduler: every {interval:g} s, "
                f"task backend {settings.CONFIG.task_backend}"
            )
            self.stdout.flush()
        try:
            run_scheduler(stop, interval, once=options["once"])
        finally:
            stop.restore()
        if stop.signum is not None:
            log.info("scheduler stopped by signal %s", stop.signum)
