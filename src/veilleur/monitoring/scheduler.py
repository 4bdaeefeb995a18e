"""The scheduler: find due sources, claim each one, enqueue its poll.

Claiming is a conditional UPDATE (due, and not leased by someone else), so two
schedulers running at once never enqueue the same source twice: whichever
UPDATE lands first wins, the other sees zero rows changed. A lease that outlives
a crashed worker simply expires and the source is claimed again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from veilleur.monitoring.models import Health, Source

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)


def due_source_ids(now: datetime, limit: int = 200) -> list[int]:
    return list(
        Source.objects.exclude(health=Health.DISABLED)
        .filter(next_poll_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_poll_at")
        .values_list("pk", flat=True)[:limit]
    )


def claim(source_id: int, now: datetime) -> bool:
    """Take the lease on a due source; False when another scheduler got it first."""
    return bool(
        Source.objects.filter(pk=source_id, next_poll_at__lte=now)
        .exclude(health=Health.DISABLED)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )


def run_once(
    enqueue: Callable[[int], object] | None = None, now: datetime | None = None
) -> list[int]:
    """One scheduler pass: claim every due source and enqueue its poll. Returns claimed ids."""
    now = now or timezone.now()
    if enqueue is None:
        from veilleur.monitoring.tasks import poll_source_task

        enqueue = poll_source_task.enqueue
    claimed = []
    for source_id in due_source_ids(now):
        if claim(source_id, now):
            claimed.append(source_id)
            try:
                enqueue(source_id)
            except Exception:
                # The queue is down: give the lease back so the next pass retries.
                log.exception("could not enqueue poll of source %s", source_id)
                Source.objects.filter(pk=source_id).update(lease_until=None)
    return claimed
