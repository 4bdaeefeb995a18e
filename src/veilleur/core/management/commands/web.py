"""``veilleur web``: serve the web interface and the API with waitress."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from veilleur.core.processes import display_host, watch_parent


def _exit(signum: int, frame: FrameType | None) -> None:
    # waitress's main loop catches SystemExit, then waits for requests in flight.
    raise SystemExit(0)


MAX_REQUEST_BODY = 16 * 1024 * 1024


class Command(BaseCommand):
    help = "Serve Veilleur over HTTP (waitress); defaults from VEILLEUR_HOST and VEILLEUR_PORT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=None, help="address to bind (VEILLEUR_HOST)")
        parser.add_argument("--port", type=int, default=None, help="port (VEILLEUR_PORT)")
        parser.add_argument("--threads", type=int, default=8, help="request threads (default 8)")

    def handle(self, *args: Any, **options: Any) -> None:
        from waitress import create_server

        from veilleur.wsgi import application

        host = options["host"] or settings.CONFIG.host
        port = options["port"] or settings.CONFIG.port
        if not 1 <= port <= 65535:
            raise CommandError(f"--port: expected 1 to 65535, got {port}")
        try:
            server = create_server(
                application, host=host, port=port, threads=max(1, options["threads"]),
                ident="veilleur", clear_untrusted_proxy_headers=True,
                # waitress buffers a body before Django sees it (1 GiB by default); no
                # page or endpoint takes more than a few MB (webhooks: 1 MiB).
                max_request_body_size=MAX_REQUEST_BODY,
            )
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        signal.signal(signal.SIGTERM, _exit)
        signal.signal(signal.SIGINT, _exit)
        watch_parent()
        self.stdout.write(f"veilleur web: serving on http://{display_host(host)}:{port}/")
        self.stdout.flush()
        try:
            server.run()
        finally:
            server.close()
