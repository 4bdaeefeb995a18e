"""Source health transitions, exponential backoff and Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from veilleur.connectors import registry
from veilleur.connectors.base import Batch, SourceError
from veilleur.monitoring.health import MAX_BACKOFF_SECONDS, IllegalTransition, next_state
from veilleur.monitoring.models import Health, Source, SourceEvent
from veilleur.monitoring.pipeline import poll_source
from veilleur.monitoring.sources import set_enabled

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FlakyConnector:
    """Raises the queued errors in order, then succeeds with no items."""

    kind = "flaky"
    platform = "testnet"
    label = "Flaky"
    fields = ()
    errors: list[Exception] = []

    def validate_config(self, config):
        return dict(config)

    def fetch(self, config, cursor, now):
        if self.errors:
            raise self.errors.pop(0)
        return Batch(items=[], cursor=cursor)


@pytest.fixture
def flaky(acme, monkeypatch):
    monkeypatch.setitem(registry.KINDS, "flaky", "tests.test_source_health:FlakyConnector")
    monkeypatch.setattr(FlakyConnector, "errors", [])
    return Source.objects.create(workspace=acme, name="flaky", kind="flaky", poll_interval=60)


def test_backoff_doubles_from_the_interval_and_is_capped():
    delays, failures, health = [], 0, Health.OK
    for _ in range(12):
        outcome = next_state(health, "transient", failures, 60)
        health, failures = outcome.health, outcome.failures
        delays.append(outcome.delay)
    assert delays[:4] == [60, 120, 240, 480]
    assert max(delays) == MAX_BACKOFF_SECONDS
    assert health == Health.FAILING


def test_retry_after_is_honoured_but_bounded():
    assert next_state(Health.OK, "transient", 0, 60, retry_after=900).delay == 900
    assert next_state(Health.OK, "success", 0, 60, retry_after=10**9).delay == 24 * 3600


def test_a_disabled_source_only_comes_back_by_enable():
    with pytest.raises(IllegalTransition):
        next_state(Health.DISABLED, "success", 0, 60)
    assert next_state(Health.DISABLED, "enable", 5, 60).health == Health.OK


@pytest.mark.storage
def test_transient_errors_degrade_then_fail_then_recover(flaky):
    FlakyConnector.errors = [SourceError("timeout")] * 3
    healths = []
    for minute in range(4):
        report = poll_source(flaky.pk, NOW + timedelta(minutes=minute))
        healths.append(report.health)
    assert healths == [Health.DEGRADED, Health.DEGRADED, Health.FAILING, Health.OK]
    flaky.refresh_from_db()
    assert flaky.consecutive_failures == 0 and flaky.last_error == ""
    events = list(SourceEvent.objects.filter(source=flaky).order_by("at", "id"))
    assert [(e.from_health, e.to_health) for e in events] == [
        (Health.OK, Health.DEGRADED),
        (Health.DEGRADED, Health.FAILING),
        (Health.FAILING, Health.OK),
    ]
    assert events[0].error == "timeout"


@pytest.mark.storage
def test_errors_push_the_next_poll_back_exponentially(flaky):
    FlakyConnector.errors = [
        SourceError("boom"),
        SourceError("boom"),
        SourceError("429", retry_after=3600),
    ]
    gaps = []
    for _ in range(3):
        poll_source(flaky.pk, NOW)
        flaky.refresh_from_db()
        gaps.append((flaky.next_poll_at - NOW).total_seconds())
    assert gaps == [60, 120, 3600]
    assert flaky.last_error == "429"


@pytest.mark.storage
def test_a_permanent_error_disables_the_source(flaky):
    FlakyConnector.errors = [SourceError("401 bad credentials", permanent=True)]
    assert poll_source(flaky.pk, NOW).health == Health.DISABLED
    flaky.refresh_from_db()
    assert flaky.health == Health.DISABLED and "401" in flaky.last_error
    # Disabled sources are not polled at all until re-enabled.
    assert poll_source(flaky.pk, NOW).error == "source is disabled"
    set_enabled(flaky, True, actor="alice", now=NOW)
    flaky.refresh_from_db()
    assert flaky.health == Health.OK and flaky.next_poll_at == NOW
    assert SourceEvent.objects.filter(source=flaky, actor="alice", to_health=Health.OK).exists()


@pytest.mark.storage
def test_a_crashing_connector_is_a_transient_failure(flaky):
    FlakyConnector.errors = [KeyError("surprise")]
    report = poll_source(flaky.pk, NOW)
    assert report.health == Health.DEGRADED and "KeyError" in report.error


@pytest.mark.storage
def test_set_enabled_is_idempotent_and_says_whether_it_changed(flaky):
    assert set_enabled(flaky, True, actor="alice", now=NOW) is False
    assert set_enabled(flaky, False, actor="alice", now=NOW) is True
    assert set_enabled(flaky, False, actor="alice", now=NOW) is False
    assert SourceEvent.objects.filter(source=flaky).count() == 1
