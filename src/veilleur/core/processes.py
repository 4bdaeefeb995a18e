"""Veilleur's long-lived processes: stop signals, the scheduler loop, child supervision.

``veilleur web``, ``scheduler`` and ``worker`` each run one process; ``veilleur run``
(and ``veilleur demo``) start them as children and supervise them: a stop signal
(SIGINT, SIGTERM) is forwarded once to every child, children get a grace period to
finish what they are doing, and a child that dies on its own stops the others and
makes the supervisor exit non-zero, so a service manager notices and restarts it.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Protocol

log = logging.getLogger(__name__)

# Set on children by the supervisor: a child whose parent vanished (killed with
# SIGKILL, say) stops by itself instead of running on as an orphan.
SUPERVISOR_ENV = "VEILLEUR_SUPERVISED_BY"
GRACE_SECONDS = 10.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Writer(Protocol):
    """Where a supervisor reports: sys.stdout, or a management command's ``self.stdout``."""

    def write(self, text: str, /) -> Any: ...

    def flush(self) -> Any: ...


class StopFlag:
    """Set by SIGINT/SIGTERM: a loop finishes its current pass, then exits cleanly."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def install(self, signals: Sequence[int] = STOP_SIGNALS) -> StopFlag:
        """Handle ``signals`` in this (main) thread by setting the flag."""
        for signum in signals:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def restore(self) -> None:
        """Put back the handlers ``install`` replaced (for callers that live on)."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signum
        self._event.set()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True as soon as a stop was asked."""
        return self._event.wait(timeout)


def watch_parent() -> None:
    """When supervised, stop this process (SIGTERM to itself) if the supervisor dies."""
    expected = os.environ.get(SUPERVISOR_ENV, "")
    if not expected.isdigit():
        return

    def watch() -> None:
        while os.getppid() == int(expected):
            time.sleep(1.0)
        log.warning("supervisor %s is gone; stopping", expected)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def enqueue_poll(source_id: int) -> object:
    """Enqueue one source's poll; with the in-process backend, log a failed poll.

    The immediate backend runs the task right here and keeps its exception in the
    result instead of raising, so it would otherwise go unseen.
    """
    from django_tasks import TaskResultStatus

    from veilleur.monitoring.tasks import poll_source_task

    result = poll_source_task.enqueue(source_id)
    if result.status == TaskResultStatus.FAILED:
        error = result.errors[-1].traceback if result.errors else "unknown error"
        log.error("poll of source %s failed:\n%s", source_id, error)
    return result


PURGE_EVERY = 3600.0  # seconds between two purges of consumed webhook deliveries


def run_scheduler(
    stop: StopFlag,
    interval: float,
    once: bool = False,
    run_pass: Callable[[], Sequence[int]] | None = None,
) -> int:
    """Run scheduler passes every ``interval`` seconds until ``stop``; return passes run."""
    from django.db import DatabaseError

    from veilleur.monitoring.scheduler import run_once

    last_purge = float("-inf")

    def default_pass() -> Sequence[int]:
        from django.utils import timezone

        from veilleur.crisis.digest_schedule import run_digests_once
        from veilleur.crisis.runner import run_detection_once
        from veilleur.hooks.services import purge_consumed

        nonlocal last_purge
        claimed = run_once(enqueue_poll)
        # The detectors of watches whose last 5-minute bucket is behind (docs/detection.md),
        # and the alert digests once they are due (docs/alerts.md).
        run_detection_once()
        run_digests_once()
        # Webhook deliveries already stored as mentions, a week on (docs/sources/webhook.md).
        if time.monotonic() - last_purge > PURGE_EVERY:
            purge_consumed(timezone.now())
            last_purge = time.monotonic()
        return claimed

    run_pass = run_pass or default_pass
    passes = 0
    while True:
        started = time.monotonic()
        _refresh_connections()
        try:
            claimed = run_pass()
            log.debug("scheduler pass: %d source(s) claimed", len(claimed))
        except DatabaseError:
            # A locked or restarting database must not end the loop: retry next pass.
            log.exception("scheduler pass failed")
        finally:
            _refresh_connections()
        passes += 1
        if once or stop.wait(max(0.0, interval - (time.monotonic() - started))):
            return passes


def _refresh_connections() -> None:
    """Drop broken or expired connections between passes, as Django does between requests.

    Not inside a transaction (the caller's, or a test's): closing would break it.
    """
    from django.db import close_old_connections, connection

    if not connection.in_atomic_block:
        close_old_connections()


def veilleur_command(name: str, *args: str) -> list[str]:
    """The command line that runs ``veilleur <name> <args>`` with this interpreter."""
    return [sys.executable, "-m", "veilleur", name, *args]


def display_host(host: str) -> str:
    """The address a browser on this machine should use for a server bound to ``host``."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - we only compare, never bind
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def check_port_free(host: str, port: int) -> None:
    """Raise OSError (with a readable message) when host:port cannot be listened on.

    Checked before migrating and starting children, so a busy port fails at once
    with a clear message instead of a dead web child a few seconds later.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def wait_for_port(host: str, port: int, timeout: float, stop: StopFlag | None = None) -> bool:
    """True once something accepts TCP connections on host:port, within ``timeout``."""
    deadline = time.monotonic() + timeout
    target = display_host(host).strip("[]")
    while time.monotonic() < deadline:
        if stop is not None and stop.is_set():
            return False
        try:
            with socket.create_connection((target, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def open_browser_when_ready(url: str, host: str, port: int, stop: StopFlag) -> None:
    """Open ``url`` in the user's browser once the web server answers (in a thread)."""

    def wait_then_open() -> None:
        if wait_for_port(host, port, 60, stop):
            webbrowser.open(url)

    threading.Thread(target=wait_then_open, name="browser", daemon=True).start()


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None


@dataclass
class Supervisor:
    """Start children, wait for a stop signal or a child's death, stop the rest."""

    children: list[Child]
    stop: StopFlag
    grace: float = GRACE_SECONDS
    out: Writer = field(default_factory=lambda: sys.stdout)
    env: dict[str, str] | None = None

    def start(self) -> None:
        env = dict(os.environ if self.env is None else self.env)
        env[SUPERVISOR_ENV] = str(os.getpid())
        for child in self.children:
            # Their own process group: a Ctrl-C in the terminal reaches the supervisor
            # only, which forwards one SIGTERM; a second signal would make workers
            # abandon their current task.
            # argv is built by veilleur_command from fixed names, never from user input.
            child.process = subprocess.Popen(child.argv, env=env, process_group=0)  # noqa: S603
            log.info("started %s (pid %s)", child.name, child.process.pid)

    def run(self) -> int:
        """Supervise until stopped; 0 after a requested stop, 1 if a child died."""
        exit_code = 0
        while not self.stop.is_set():
            dead = next((c for c in self.children if c.process and c.process.poll() is not None),
                        None)
            if dead is not None and dead.process is not None:
                self.out.write(f"veilleur: {dead.name} exited unexpectedly with status "
                               f"{dead.process.returncode}; stopping the others\n")
                self.out.flush()
                exit_code = 1
                break
            self.stop.wait(0.2)
        self.terminate()
        return exit_code

    def terminate(self) -> None:
        """SIGTERM every live child, wait up to the grace period, then kill the rest."""
        alive = [c for c in self.children if c.process and c.process.poll() is None]
        for child in alive:
            assert child.process is not None
            child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for child in alive:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0f s; killing it", child.name, self.grace)
                child.process.kill()
                child.process.wait()


def login_url(host: str, port: int) -> str:
    """Where a person on this machine logs in."""
    return f"http://{display_host(host)}:{port}/login/"


def run_embedded(port: int, open_browser: bool, stop: StopFlag, out: Writer) -> int:
    """Web + scheduler (+ worker unless the backend is in-process) under one supervisor.

    The database must be migrated already. Returns the exit status for the process.
    """
    from django.conf import settings
    from django.db import connections

    config = settings.CONFIG
    children = [
        Child("web", veilleur_command("web", "--port", str(port))),
        Child("scheduler", veilleur_command("scheduler")),
    ]
    if config.task_backend != "immediate":
        children.append(Child("worker", veilleur_command("worker")))
    # The children open their own connections; this process keeps none while it waits.
    connections.close_all()
    supervisor = Supervisor(children, stop, out=out)
    if stop.is_set():
        return 0
    supervisor.start()
    if open_browser:
        open_browser_when_ready(login_url(config.host, port), config.host, port, stop)
    return supervisor.run()
