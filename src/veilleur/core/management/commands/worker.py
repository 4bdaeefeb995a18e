"""``veilleur worker``: run background tasks for the configured task backend."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from veilleur.core.processes import watch_parent


class Command(BaseCommand):
    help = (
        "Run a task worker: django-tasks-db's worker for VEILLEUR_TASK_BACKEND=database, an "
        "RQ worker for redis; nothing to do for immediate. Start as many as you need."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--burst", action="store_true", help="run the tasks already queued, then exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        backend = settings.CONFIG.task_backend
        verbosity = options["verbosity"]
        if backend == "immediate":
            self.stdout.write(
                "veilleur worker: VEILLEUR_TASK_BACKEND=immediate runs tasks inside the "
                "scheduler and web processes; no worker is needed."
            )
            return
        watch_parent()
        if backend == "database":
            # Both workers stop gracefully on SIGINT/SIGTERM (finish the task in hand).
            call_command(
                "db_worker", batch=options["burst"], reload=False,
                startup_delay=not options["burst"], verbosity=verbosity,
            )
        else:
            call_command(
                "rqworker", "default", job_class="django_tasks_rq.Job",
                burst=options["burst"], verbosity=verbosity,
            )
