"""Loopback peers for connector tests, beyond what pytest-httpserver serves.

pytest-httpserver (the ``httpserver`` fixture) answers recorded payloads with any
status and headers. The cases it cannot produce live here: a response cut off in the
middle of its body, and a peer that accepts the connection but never answers.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug import Response as WerkzeugResponse

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sources"


def fixture_bytes(*parts: str) -> bytes:
    """A recorded payload under tests/fixtures/sources/."""
    return FIXTURES.joinpath(*parts).read_bytes()


@contextmanager
def raw_peer(response: bytes, *, hold: float = 0.0) -> Iterator[str]:
    """Serve ``response`` verbatim to every connection, then close (after ``hold`` s).

    Send a Content-Length larger than the body to simulate a truncated response; an
    empty ``response`` with a long ``hold`` is a peer that never answers.
    """
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _addr = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1.0)
                try:
                    conn.recv(65536)  # the request; its content does not matter here
                    if response:
                        conn.sendall(response)
                    if hold:
                        stop.wait(hold)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        server.close()
        thread.join(timeout=5)


def truncated_response(body: bytes, content_type: str = "application/json") -> bytes:
    """An HTTP/1.1 response announcing twice the bytes it sends."""
    head = (
        "HTTP/1.1 200 OK\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body) * 2}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    return head + body


class FiftyMegabytes:
    """A 50 MB JSON-typed body streamed in 1 MB chunks, counting the chunks produced.

    ``declare_length`` sends its Content-Length (a client should refuse it unread);
    without it the client must stop reading at its limit: ``sent`` stays far below 50.
    """

    SIZE = 50 * 1024 * 1024

    def __init__(self, *, declare_length: bool) -> None:
        self.declare_length = declare_length
        self.sent = 0

    def _chunks(self) -> Iterator[bytes]:
        for _ in range(50):
            self.sent += 1
            yield b" " * (1024 * 1024)

    def response(self) -> WerkzeugResponse:
        headers = {"Content-Length": str(self.SIZE)} if self.declare_length else {}
        return WerkzeugResponse(self._chunks(), content_type="application/json",
                                headers=headers)
