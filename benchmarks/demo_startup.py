#!/usr/bin/env python3
"""How fast does ``veilleur demo`` serve its first page, and when does the crisis arrive?

Starts the demo N times as a real process (fresh temporary data directory each
time, as on a fresh install) and prints the median seconds from start to the first
HTTP 200 on /login/. With ``--crisis`` it then runs one demo until the first
mention of the scenario's crisis arc is stored, and prints that delay: the origin
from which crisis-detection latency is measured.

Usage:
    python benchmarks/demo_startup.py [--runs 5] [--crisis] [--speed X]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

DEADLINE = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def login_status(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def start_demo(tmp: Path, port: int, speed: float | None) -> tuple[subprocess.Popen[str], Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEILLEUR_")}
    env.update(TMPDIR=str(tmp), PYTHONUNBUFFERED="1")
    log = tmp / "demo.log"
    argv = [sys.executable, "-m", "veilleur", "demo", "--no-browser", "--port", str(port)]
    if speed:
        argv += ["--speed", str(speed)]
    with log.open("w") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   text=True)
    return process, log


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def first_page(speed: float | None) -> float:
    """Seconds from process start to the first 200 on /login/."""
    with tempfile.TemporaryDirectory(prefix="veilleur-bench-") as tmp:
        port = free_port()
        started = time.monotonic()
        process, log = start_demo(Path(tmp), port, speed)
        try:
            while time.monotonic() - started < DEADLINE:
                if login_status(port) == 200:
                    return time.monotonic() - started
                if process.poll() is not None:
                    break
                time.sleep(0.05)
            raise SystemExit(f"no 200 on /login/ within {DEADLINE:.0f} s:\n{log.read_text()}")
        finally:
            stop(process)


def crisis_arrival(speed: float | None) -> tuple[float, float | None]:
    """Seconds from start to the first stored crisis mention, and the banner's estimate."""
    with tempfile.TemporaryDirectory(prefix="veilleur-bench-") as tmp:
        port = free_port()
        started = time.monotonic()
        process, log = start_demo(Path(tmp), port, speed)
        try:
            database = None
            while process.poll() is None:
                if database is None:
                    found = list(Path(tmp).glob("veilleur-demo-*/veilleur.sqlite3"))
                    database = found[0] if found else None
                elif _crisis_stored(database):
                    elapsed = time.monotonic() - started
                    match = re.search(r"starts about (\d+) min (\d+) s in", log.read_text())
                    estimate = int(match[1]) * 60 + int(match[2]) if match else None
                    return elapsed, estimate
                time.sleep(0.5)
            raise SystemExit(f"the demo exited early:\n{log.read_text()}")
        finally:
            stop(process)


def _crisis_stored(database: Path) -> bool:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
            row = db.execute(
                "select count(*) from monitoring_mention "
                "where json_extract(extra, '$.scenario_kind') = 'crisis'"
            ).fetchone()
    except sqlite3.Error:
        return False
    return bool(row and row[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--speed", type=float, default=None,
                        help="replay speed (default: the demo's, a week in ~10 minutes)")
    parser.add_argument("--crisis", action="store_true",
                        help="also time the arrival of the crisis arc (minutes at default speed)")
    args = parser.parse_args()
    times = []
    for run in range(1, args.runs + 1):
        seconds = first_page(args.speed)
        times.append(seconds)
        print(f"run {run}: first 200 on /login/ after {seconds:.2f} s", flush=True)
    print(f"median time to first page: {statistics.median(times):.2f} s "
          f"(min {min(times):.2f}, max {max(times):.2f}, {len(times)} runs)")
    if args.crisis:
        elapsed, estimate = crisis_arrival(args.speed)
        print(f"first crisis mention stored {elapsed:.1f} s after demo start "
              f"(banner estimate from first poll: {estimate} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
