"""The scheduler claims each due source once, even with two schedulers running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from veilleur.monitoring import scheduler
from veilleur.monitoring.models import Health, Source

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.storage


@pytest.fixture
def sources(acme):
    due = Source.objects.create(workspace=acme, name="due", kind="file", next_poll_at=NOW)
    later = Source.objects.create(
        workspace=acme, name="later", kind="file", next_poll_at=NOW + timedelta(minutes=5)
    )
    off = Source.objects.create(
        workspace=acme, name="off", kind="file", next_poll_at=NOW, health=Health.DISABLED
    )
    return due, later, off


def test_only_due_enabled_sources_are_enqueued(sources):
    due, _, _ = sources
    enqueued: list[int] = []
    assert scheduler.run_once(enqueued.append, NOW) == [due.pk]
    assert enqueued == [due.pk]


def test_two_schedulers_never_enqueue_the_same_source_twice(sources):
    first: list[int] = []
    second: list[int] = []
    scheduler.run_once(first.append, NOW)
    scheduler.run_once(second.append, NOW + timedelta(seconds=1))
    assert len(first) == 1 and second == []


def test_a_claim_lost_to_another_scheduler_is_skipped(sources):
    due, _, _ = sources
    assert scheduler.claim(due.pk, NOW) is True
    assert scheduler.claim(due.pk, NOW) is False


def test_an_expired_lease_is_claimed_again(sources):
    due, _, _ = sources
    scheduler.run_once(lambda _id: None, NOW)
    after_lease = NOW + scheduler.LEASE + timedelta(seconds=1)
    # "later" has become due meanwhile; "due" is claimed again because its lease expired.
    assert due.pk in scheduler.run_once(lambda _id: None, after_lease)


def test_a_failed_enqueue_gives_the_lease_back(sources):
    due, _, _ = sources

    def broken_queue(_id):
        raise ConnectionError("redis is down")

    scheduler.run_once(broken_queue, NOW)
    due.refresh_from_db()
    assert due.lease_until is None
    assert scheduler.run_once(lambda _id: None, NOW) == [due.pk]
