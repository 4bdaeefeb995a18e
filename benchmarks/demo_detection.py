"""Detection latency in the demo: simulated time from the crisis arc's start to the
first signal, the first incident and the first alert delivered, and to the first signal
of each detector.

Runs the product's own path in one process on a fresh SQLite database: the demo's
workspace, watch and replay source (``create_demo``), a JSON webhook destination on a
local HTTP receiver with an alert rule, then scheduler passes on a synthetic real
clock (one every ``--step`` seconds, as ``veilleur scheduler`` does with the demo's
interval): ``run_once`` polls the replay, the detectors run on the replay's simulated
clock, alerts go out through Apprise. Nothing sleeps, so the ten-minute demo takes
about a minute or two of CPU. It plays on until ``--hours`` simulated hours after the
crisis arc's start, to see which detectors fire on it and when.

    python benchmarks/demo_detection.py [--step 2] [--hours 4]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from machine import describe as describe_machine  # benchmarks/machine.py


class Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, object]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        Receiver.received.append(json.loads(self.rfile.read(length) or b"{}"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=float, default=2.0, help="real seconds per pass")
    parser.add_argument("--hours", type=float, default=4.0,
                        help="simulated hours after the crisis's start to play on for")
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="veilleur-detect-")
    os.environ.update({
        "VEILLEUR_DATA_DIR": data, "VEILLEUR_TASK_BACKEND": "immediate",
        "VEILLEUR_ALLOW_PRIVATE_NETWORKS": "true", "VEILLEUR_LOG_LEVEL": "warning",
        "DJANGO_SETTINGS_MODULE": "veilleur.settings",
    })
    os.environ.pop("VEILLEUR_DATABASE_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from veilleur.core.demo_setup import create_demo
    from veilleur.crisis.models import AlertDelivery, AlertDestination, AlertRule, Signal
    from veilleur.crisis.runner import due_watch_ids, run_watch, watch_clock
    from veilleur.monitoring.models import Source, Watch
    from veilleur.monitoring.pipeline import poll_source
    from veilleur.monitoring.scheduler import run_once

    settings.ALERT_RETRY_DELAYS = (0, 0)
    call_command("migrate", verbosity=0)
    demo = create_demo()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    destination = AlertDestination.objects.create(
        workspace=demo.workspace, name="ops", language="en",
        url=f"json://127.0.0.1:{server.server_address[1]}/hook")
    watch = Watch.objects.get(workspace=demo.workspace)
    rule = AlertRule.objects.create(workspace=demo.workspace, watch=watch, max_severity=4)
    rule.destinations.add(destination)

    real = datetime.now().astimezone()
    first: dict[str, datetime] = {}
    began = time.perf_counter()
    passes = 0
    crisis_at: datetime | None = None
    while real < datetime.now().astimezone() + timedelta(seconds=demo.wall_seconds + 60):
        run_once(lambda source_id, at=real: poll_source(source_id, at), now=real)
        for watch_id in due_watch_ids(real):
            run_watch(Watch.objects.get(pk=watch_id), real)
        passes += 1
        simulated = watch_clock(watch, real)
        signal = Signal.objects.order_by("window_end").first()
        if signal and "signal" not in first:
            first["signal"] = signal.window_end
            first["incident"] = signal.incident.opened_at if signal.incident else signal.window_end
        sent = AlertDelivery.objects.filter(status="sent").order_by("at").first()
        if sent and "alert" not in first:
            # Sent during this pass: at the latest at the pass's simulated time.
            first["alert"] = simulated
        cursor = Source.objects.get(pk=demo.source.pk).cursor
        if crisis_at is None and cursor and cursor.get("anchor"):
            crisis_at = (datetime.fromisoformat(cursor["anchor"])
                         + timedelta(seconds=demo.crisis_start_s or 0))
        if ("alert" in first and crisis_at is not None
                and simulated >= crisis_at + timedelta(hours=args.hours)):
            break
        real += timedelta(seconds=args.step)
    cursor = Source.objects.get(pk=demo.source.pk).cursor
    anchor = datetime.fromisoformat(cursor["anchor"])
    crisis = anchor + timedelta(seconds=demo.crisis_start_s or 0)
    print(f"machine: {describe_machine()}")
    print(f"command: python benchmarks/{Path(__file__).name} {' '.join(sys.argv[1:])}")
    print(f"demo: speed x{demo.speed:.0f}, a scheduler pass every {args.step:g} s "
          f"({args.step * demo.speed / 60:.0f} simulated minutes); {passes} passes in "
          f"{time.perf_counter() - began:.0f} s of CPU time")
    crisis = crisis.astimezone(UTC)
    print(f"crisis arc starts at {crisis:%a %H:%M} UTC (simulated)")
    for what in ("signal", "incident", "alert"):
        at = first.get(what)
        if at is None:
            print(f"first {what}: none")
            continue
        late = (at - crisis).total_seconds()
        print(f"first {what}: {at.astimezone(UTC):%a %H:%M} UTC simulated, {late / 60:.0f} "
              f"simulated minutes after the crisis started ({late / demo.speed:.1f} s of "
              f"real time at the demo's speed)")
    before = Signal.objects.filter(window_end__lt=crisis).count()
    print(f"signals before the crisis arc: {before}")
    print(f"first signal of each detector (up to {args.hours:g} simulated hours after the "
          f"crisis started):")
    seen: set[str] = set()
    for signal in Signal.objects.filter(window_end__gte=crisis).order_by("window_end", "pk"):
        if signal.kind in seen:
            continue
        seen.add(signal.kind)
        late = (signal.window_end - crisis).total_seconds()
        print(f"  {signal.kind} at {signal.window_end.astimezone(UTC):%a %H:%M} "
              f"(+{late / 60:.0f} min): observed {signal.observed:g} vs expected "
              f"{signal.expected:.3g}, severity {signal.severity}")
        details = signal.explanation.get("details") if isinstance(signal.explanation,
                                                                  dict) else None
        if isinstance(details, dict) and "slow_rise" in details:
            print(f"    {details['slow_rise']}")
    if Receiver.received:
        message = Receiver.received[0]
        print("first alert received by the webhook:")
        print("  title:", message.get("title"))
        print("  " + str(message.get("message", ""))[:600].replace("\n", "\n  "))
    server.shutdown()


if __name__ == "__main__":
    main()
