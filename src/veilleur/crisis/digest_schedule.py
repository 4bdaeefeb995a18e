"""When the daily and weekly alert digests go out: 08:00 local time, weekly on Mondays.

The scheduler pass asks ``run_digests_once``; what was queued is remembered in the
process, and ``send_digests`` itself never sends one period's digest twice, so a
restarted scheduler (or two of them) cannot send a digest twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

DIGEST_HOUR = 8
_queued: dict[str, date] = {}


def due_digests(now: datetime, queued: dict[str, date], zone: ZoneInfo) -> list[str]:
    """The digest frequencies due at ``now`` that ``queued`` does not have for today."""
    local = now.astimezone(zone)
    if local.hour < DIGEST_HOUR:
        return []
    due = [] if queued.get("daily") == local.date() else ["daily"]
    if local.weekday() == 0 and queued.get("weekly") != local.date():
        due.append("weekly")
    return due


def run_digests_once(enqueue: Callable[[str], object] | None = None,
                     now: datetime | None = None) -> list[str]:
    """Queue the digests that are due; returns their frequencies."""
    now = now or timezone.now()
    if enqueue is None:
        from veilleur.crisis.tasks import send_digests_task

        enqueue = send_digests_task.enqueue
    zone = ZoneInfo(settings.TIME_ZONE)
    due = due_digests(now, _queued, zone)
    for frequency in due:
        enqueue(frequency)
        _queued[frequency] = now.astimezone(zone).date()
    return due
