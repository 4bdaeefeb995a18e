"""The process commands: demo, web, scheduler and worker, run as real processes."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from veilleur.core.processes import StopFlag, run_scheduler
from veilleur.monitoring import scheduler
from veilleur.monitoring.models import Mention, Source

FIRST_PAGE_DEADLINE = 30.0
CREDENTIALS = re.compile(r"User\s+(\S+)\s+Password\s+(\S+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh install: no VEILLEUR_* from the test settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEILLEUR_", "DJANGO_"))}
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    env.update(TMPDIR=str(tmp), PYTHONUNBUFFERED="1", **extra)
    return env


def status_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def wait_until(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def mention_count(database: Path) -> int:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
            # Items stored: mentions, and the exact copies counted in them (docs/stories.md).
            return db.execute(
                "select (select count(*) from monitoring_mention)"
                " + (select count(*) from monitoring_mentioncopy)"
            ).fetchone()[0]
    except sqlite3.Error:
        return 0


def log_in(base: str, username: str, password: str) -> str:
    """Log in through the real form (CSRF included); return where it redirects."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login/", timeout=5).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(f"{base}/login/", data=data,
                                     headers={"Referer": f"{base}/login/"})
    with opener.open(request, timeout=5) as response:
        return response.url


@pytest.fixture
def stop_after():
    """Processes started by a test are stopped even when it fails."""
    started: list[subprocess.Popen] = []
    yield started.append
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_demo_serves_stores_mentions_and_stops_cleanly(tmp_path, stop_after):
    port, cwd = free_port(), tmp_path / "cwd"
    cwd.mkdir()
    env = clean_env(tmp_path)
    log = (tmp_path / "demo.log").open("w+")
    started = time.monotonic()
    demo = subprocess.Popen(
        [sys.executable, "-m", "veilleur", "demo", "--no-browser", "--port", str(port),
         "--speed", "20000"],
        cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    stop_after(demo)
    base = f"http://127.0.0.1:{port}"
    status = wait_until(lambda: status_of(f"{base}/login/"), FIRST_PAGE_DEADLINE)
    first_page = time.monotonic() - started
    output = Path(log.name).read_text()
    assert status == 200, f"no login page after {first_page:.1f} s:\n{output}"
    assert first_page < FIRST_PAGE_DEADLINE

    username, password = CREDENTIALS.search(output).groups()
    assert username == "demo" and len(password) >= 12
    assert log_in(base, username, password) != f"{base}/login/"

    data_dirs = list((tmp_path / "tmp").glob("veilleur-demo-*"))
    assert len(data_dirs) == 1 and str(data_dirs[0]) in output
    database = data_dirs[0] / "veilleur.sqlite3"
    assert wait_until(lambda: mention_count(database) > 20, 20), Path(log.name).read_text()

    demo.send_signal(signal.SIGTERM)
    assert demo.wait(timeout=20) == 0, Path(log.name).read_text()
    assert not data_dirs[0].exists()
    assert list(cwd.iterdir()) == []  # nothing written where the user stood
    assert status_of(f"{base}/login/") is None  # the web child is gone too


def test_the_demo_refuses_a_busy_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "veilleur", "demo", "--no-browser", "--port", str(port)],
            env=clean_env(tmp_path), capture_output=True, text=True, timeout=60,
        )
    assert result.returncode != 0 and f"127.0.0.1:{port}" in result.stderr
    assert list((tmp_path / "tmp").glob("veilleur-demo-*")) == []


def test_the_demo_command_refuses_a_database_it_did_not_prepare(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="throw-away"):
        call_command("demo", no_browser=True)


# -- web, scheduler and worker alone -------------------------------------------------------


@pytest.fixture
def install(tmp_path):
    """A migrated data directory and the environment that points at it."""
    env = clean_env(tmp_path, VEILLEUR_DATA_DIR=str(tmp_path / "data"))
    subprocess.run([sys.executable, "-m", "veilleur", "migrate", "-v0"], env=env,
                   check=True, timeout=120)
    return env


def veilleur(*args: str, env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "veilleur", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            **kwargs)


def test_web_serves_and_exits_zero_on_sigterm(install, stop_after):
    port = free_port()
    web = veilleur("web", "--port", str(port), env=install)
    stop_after(web)
    assert wait_until(lambda: status_of(f"http://127.0.0.1:{port}/login/"), 20) == 200
    web.send_signal(signal.SIGTERM)
    assert web.wait(timeout=15) == 0
    assert "serving on" in web.stdout.read()


def test_the_scheduler_exits_zero_on_sigterm_and_sigint(install, stop_after):
    for signum in (signal.SIGTERM, signal.SIGINT):
        process = veilleur("scheduler", "--interval", "30", env=install)
        stop_after(process)
        assert "every 30 s" in process.stdout.readline()
        process.send_signal(signum)
        # Interrupts the 30 s sleep: stops at once, not at the next pass.
        assert process.wait(timeout=10) == 0


def test_the_worker_is_not_needed_with_the_immediate_backend(tmp_path):
    out = StringIO()
    call_command("worker", stdout=out)
    assert "no worker is needed" in out.getvalue()


def test_database_backend_scheduler_enqueues_and_the_worker_polls(install, tmp_path):
    env = {**install, "VEILLEUR_TASK_BACKEND": "database", "DJANGO_SETTINGS_MODULE":
           "veilleur.settings"}
    setup = ("import django; django.setup(); from veilleur.core.demo_setup import create_demo; "
             "create_demo(speed=1e7)")
    subprocess.run([sys.executable, "-c", setup], env=env, check=True, timeout=60)
    database = tmp_path / "data" / "veilleur.sqlite3"

    def one_round() -> None:
        for command in (["scheduler", "--once"], ["worker", "--burst"]):
            subprocess.run([sys.executable, "-m", "veilleur", *command], env=env, check=True,
                           timeout=60, capture_output=True)

    one_round()  # the first poll starts the replay clock
    with sqlite3.connect(database) as db:
        tasks = db.execute("select task_path, status from django_tasks_database_dbtaskresult "
                           "where task_path not like '%send_digests_task' "
                           "order by task_path").fetchall()
    # Enqueued by the scheduler, run by the worker: the source's poll, and the demo
    # watch's detectors (docs/detection.md); after 08:00 the digests too (not counted:
    # they depend on the hour the test runs).
    assert tasks == [("veilleur.crisis.detection_tasks.run_detectors_task", "SUCCESSFUL"),
                     ("veilleur.monitoring.tasks.poll_source_task", "SUCCESSFUL")]
    time.sleep(1.2)  # the demo source's poll interval
    one_round()
    assert mention_count(database) == 500  # one full batch; the rest comes next pass


# -- the scheduler loop in this process ------------------------------------------------------


@pytest.fixture
def due_replay_source(acme, tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(
        '{"offset_s": 0, "id": "a", "text": "Fibrelune is fine", "author": {"handle": "x"}}\n'
        '{"offset_s": 0, "id": "b", "text": "Fibrelune is down", "author": {"handle": "y"}}\n',
        encoding="utf-8",
    )
    return Source.objects.create(
        workspace=acme, name="replay", kind="replay", config={"path": str(path), "speed": 1.0}
    )


@pytest.mark.storage
def test_scheduler_once_polls_the_due_sources(due_replay_source):
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    call_command("scheduler", once=True)
    assert set(Mention.objects.values_list("external_id", flat=True)) == {"a", "b"}
    due_replay_source.refresh_from_db()
    assert due_replay_source.lease_until is None
    assert due_replay_source.next_poll_at > timezone.now()
    # The command put the test process's own signal handlers back.
    assert {s: signal.getsignal(s) for s in handlers} == handlers


@pytest.mark.storage
def test_the_loop_finishes_its_pass_when_asked_to_stop(due_replay_source):
    stop = StopFlag()
    passes: list[int] = []

    def run_pass() -> list[int]:
        passes.append(1)
        stop.set()  # a signal arriving mid-pass
        return scheduler.run_once(lambda _id: None)

    assert run_scheduler(stop, interval=60, run_pass=run_pass) == 1
    due_replay_source.refresh_from_db()
    assert due_replay_source.lease_until is not None  # the pass did complete its claim


@pytest.mark.storage
@pytest.mark.django_db(transaction=True)
def test_two_racing_schedulers_never_enqueue_the_same_source_twice(acme):
    now = timezone.now()
    Source.objects.bulk_create(
        Source(workspace=acme, name=f"s{n}", kind="replay", next_poll_at=now)
        for n in range(40)
    )
    barrier = threading.Barrier(2)
    claimed: list[list[int]] = [[], []]

    def scheduler_thread(index: int) -> None:
        from django.db import connection

        try:
            barrier.wait()
            scheduler.run_once(claimed[index].append, now + timedelta(seconds=1))
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler_thread, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    everything = claimed[0] + claimed[1]
    assert sorted(everything) == sorted(Source.objects.values_list("pk", flat=True))
    assert len(set(everything)) == len(everything)


@pytest.mark.storage
def test_a_scheduler_that_read_the_due_list_late_claims_nothing(acme):
    # The interleaving a race produces: A lists due sources, B runs a whole pass, A claims.
    now = timezone.now()
    for n in range(3):
        Source.objects.create(workspace=acme, name=f"s{n}", kind="replay", next_poll_at=now)
    seen_by_a = scheduler.due_source_ids(now)
    enqueued_by_b: list[int] = []
    scheduler.run_once(enqueued_by_b.append, now)
    assert sorted(enqueued_by_b) == sorted(seen_by_a)
    assert [scheduler.claim(pk, now) for pk in seen_by_a] == [False] * 3


@pytest.mark.storage
def test_a_failed_inline_poll_is_logged(due_replay_source, monkeypatch, caplog):
    from veilleur.core.processes import enqueue_poll
    from veilleur.monitoring import tasks

    def crash(source_id: int):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(tasks, "poll_source", crash)
    enqueue_poll(due_replay_source.pk)
    assert "poll of source" in caplog.text and "disk on fire" in caplog.text


# -- the supervisor ------------------------------------------------------------------------


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_child_dying_stops_the_others_and_the_supervisor_fails():
    from veilleur.core.processes import Child, Supervisor

    sleeper = Child("sleeper", python("import time; time.sleep(60)"))
    crasher = Child("crasher", python("import time; time.sleep(0.5); raise SystemExit(3)"))
    out = StringIO()
    supervisor = Supervisor([sleeper, crasher], StopFlag(), grace=5, out=out)
    supervisor.start()
    assert supervisor.run() == 1
    assert "crasher exited unexpectedly with status 3" in out.getvalue()
    assert sleeper.process.poll() is not None  # stopped, not orphaned


def test_a_stop_is_forwarded_and_a_stubborn_child_is_killed_after_the_grace_period():
    from veilleur.core.processes import Child, Supervisor

    polite = Child("polite", python("import time; time.sleep(60)"))
    stubborn = Child("stubborn", python(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    ))
    stop = StopFlag()
    supervisor = Supervisor([polite, stubborn], stop, grace=1)
    supervisor.start()
    time.sleep(1.0)  # let the stubborn child install its handler
    stop.set()
    started = time.monotonic()
    assert supervisor.run() == 0
    assert time.monotonic() - started < 5
    assert polite.process.returncode == -signal.SIGTERM
    assert stubborn.process.returncode == -signal.SIGKILL
