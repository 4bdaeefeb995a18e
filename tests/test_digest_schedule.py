"""Digests are queued once a day after 08:00 local time, weekly ones on Mondays."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from veilleur.crisis import digest_schedule
from veilleur.crisis.digest_schedule import due_digests, run_digests_once

PARIS = ZoneInfo("Europe/Paris")
MONDAY_0900 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Paris


def test_nothing_is_due_before_eight_local_time():
    assert due_digests(datetime(2026, 11, 23, 6, 30, tzinfo=UTC), {}, PARIS) == []


def test_daily_every_day_and_weekly_on_mondays_once():
    assert due_digests(MONDAY_0900, {}, PARIS) == ["daily", "weekly"]
    queued = {"daily": date(2026, 11, 23), "weekly": date(2026, 11, 23)}
    assert due_digests(MONDAY_0900, queued, PARIS) == []
    tuesday = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert due_digests(tuesday, queued, PARIS) == ["daily"]


def test_the_scheduler_pass_queues_each_digest_once(monkeypatch):
    monkeypatch.setattr(digest_schedule, "_queued", {})
    queued: list[str] = []
    assert run_digests_once(queued.append, MONDAY_0900) == ["daily", "weekly"]
    assert run_digests_once(queued.append, MONDAY_0900) == []
    assert queued == ["daily", "weekly"]
