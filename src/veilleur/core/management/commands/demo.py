"""``veilleur demo``: a throw-away Veilleur replaying a fictional week, live."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from veilleur.core.demo_env import DEMO_DIR_ENV
from veilleur.core.processes import StopFlag, check_port_free, login_url, run_embedded


def _minutes(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s"


class Command(BaseCommand):
    help = (
        "Start a throw-away Veilleur on a temporary SQLite database, replaying a fictional "
        "week of mentions of 'Fibrelune' with a billing crisis on day 5. Ctrl-C stops it and "
        "removes its data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=None, help="web port (VEILLEUR_PORT)")
        parser.add_argument(
            "--no-browser", action="store_true", help="do not open a browser at the login page"
        )
        parser.add_argument(
            "--speed", type=float, default=None,
            help="simulated seconds per real second (default: the week in about 10 minutes)",
        )
        parser.add_argument(
            "--keep", action="store_true", help="keep the temporary data directory at exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir = self._demo_dir()
        if options["speed"] is not None and not 0 < options["speed"] <= 10_000_000:
            raise CommandError("--speed: expected a number above 0")
        stop = StopFlag().install()
        try:
            status = self._run(data_dir, stop, options)
        finally:
            stop.restore()
            connections.close_all()
            if options["keep"]:
                self.stdout.write(f"Demo data kept in {data_dir}")
        if status:
            raise SystemExit(status)

    def _demo_dir(self) -> Path:
        """The throw-away directory prepared by ``veilleur.cli``; refuse anything else."""
        prepared = os.environ.get(DEMO_DIR_ENV)
        database = Path(str(settings.DATABASES["default"].get("NAME", "")))
        if not prepared or settings.CONFIG.data_dir != Path(prepared) or (
            database.parent != Path(prepared)
        ):
            raise CommandError(
                "the demo runs on a throw-away database prepared by the `veilleur demo` "
                "command line; start it that way (or `python -m veilleur demo`)."
            )
        return Path(prepared)

    def _run(self, data_dir: Path, stop: StopFlag, options: dict[str, Any]) -> int:
        from veilleur.core.demo_setup import create_demo

        port = options["port"] or settings.CONFIG.port
        try:
            check_port_free(settings.CONFIG.host, port)
        except OSError as exc:
            raise CommandError(f"{exc.strerror}; choose another with --port") from exc
        call_command("migrate", interactive=False, verbosity=0)
        if stop.is_set():
            return 0
        demo = create_demo(options["speed"])
        url = login_url(settings.CONFIG.host, port)
        kept = "kept at exit (--keep)" if options["keep"] else "removed at exit"
        lines = [
            "",
            "Veilleur demo: a fictional week of mentions of \"Fibrelune\", a made-up operator.",
            f"  Open      {url}",
            f"  User      {demo.username}",
            f"  Password  {demo.password}",
            f"  The week plays in about {_minutes(demo.wall_seconds)} "
            f"(speed x{demo.speed:g}).",
        ]
        if demo.crisis_after_s is not None:
            lines.append(
                f"  The crisis (customers charged twice) starts about "
                f"{_minutes(demo.crisis_after_s)} in."
            )
        lines += [f"  Data      {data_dir} ({kept})", "Press Ctrl-C to stop.", ""]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
        return run_embedded(port, not options["no_browser"], stop, self.stdout)
