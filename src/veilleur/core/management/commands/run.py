"""``veilleur run``: the embedded mode, every process of Veilleur under one command."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from veilleur.core.processes import StopFlag, check_port_free, login_url, run_embedded


class Command(BaseCommand):
    help = (
        "Migrate, then run the web server, the scheduler and (unless the task backend is "
        "immediate) a worker as child processes. Ctrl-C or SIGTERM stops them all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=None, help="web port (VEILLEUR_PORT)")
        parser.add_argument(
            "--no-browser", action="store_true", help="do not open a browser at the login page"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port = options["port"] or settings.CONFIG.port
        try:
            check_port_free(settings.CONFIG.host, port)
        except OSError as exc:
            raise CommandError(f"{exc.strerror}; choose another with --port") from exc
        stop = StopFlag().install()
        try:
            call_command("migrate", interactive=False, verbosity=0)
            self.stdout.write(
                f"Veilleur: {login_url(settings.CONFIG.host, port)}  (Ctrl-C stops)"
            )
            self.stdout.flush()
            status = run_embedded(port, not options["no_browser"], stop, self.stdout)
        finally:
            stop.restore()
        if status:
            raise SystemExit(status)
