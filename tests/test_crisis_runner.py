"""The detectors on stored mentions: a week of calm, then a crisis, opens one incident."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes import NOW, make_mention
from veilleur.crisis.models import DetectorState, Incident, Signal
from veilleur.crisis.runner import bucket_floor, due_watch_ids, run_detection_once, run_watch
from veilleur.monitoring.models import Author, Source, Watch


@pytest.fixture
def watch(acme):
    return Watch.objects.create(workspace=acme, name="Fibrelune", query="fibrelune")


@pytest.fixture
def source(acme):
    return Source.objects.create(workspace=acme, name="feed", kind="file")


def calm_week(source, watch, end):
    for i in range(7 * 24 * 2):  # one mention every 30 minutes
        make_mention(source, f"Fibrelune box {i} installée", sentiment="neutral",
                     published_at=end - timedelta(days=7) + timedelta(minutes=30 * i),
                     watches=[watch], reach=100)


def test_a_crisis_after_a_calm_week_opens_one_explained_incident(source, watch, acme):
    end = bucket_floor(NOW)
    calm_week(source, watch, end - timedelta(minutes=30))
    big = Author.objects.create(workspace=acme, platform="fakenet", handle="@bignews",
                                followers=800_000, verified=True)
    for i in range(40):
        make_mention(source, f"Fibrelune m'a prélevé deux fois, arnaque ! #remboursement {i}",
                     sentiment="negative", published_at=end - timedelta(minutes=20 - i // 2),
                     watches=[watch], author=big if i == 0 else None,
                     reach=800_000 if i == 0 else 50)
    recorded = run_watch(watch, NOW)
    kinds = {r.signal.kind for r in recorded}
    assert "volume" in kinds and "negative_shift" in kinds and "high_reach" in kinds
    assert Incident.objects.count() == 1
    incident = Incident.objects.get()
    assert incident.severity <= 2
    volume = Signal.objects.filter(kind="volume").first()
    assert volume.observed > volume.expected
    explanation = volume.explanation
    assert "#remboursement" in explanation["hashtags"]
    assert explanation["sentiment"].get("negative", 0) >= 40
    assert explanation["examples"] and "volume" in explanation
    state = DetectorState.objects.get(watch=watch)
    assert state.last_bucket_end == end and state.lease_until is None
    # Running again in the same bucket finds nothing new to do.
    assert run_watch(watch, NOW) == []


def test_a_calm_week_raises_nothing_and_history_is_not_alerted(source, watch):
    end = bucket_floor(NOW)
    calm_week(source, watch, end)
    assert run_watch(watch, NOW) == []
    assert not Signal.objects.exists()


def test_the_scheduler_pass_enqueues_watches_that_are_behind(watch, acme):
    other = Watch.objects.create(workspace=acme, name="Off", query="x", is_active=False)
    queued = []
    assert run_detection_once(queued.append, NOW) == [watch.pk]
    assert queued == [watch.pk] and other.pk not in due_watch_ids(NOW)
    DetectorState.objects.create(watch=watch, last_bucket_end=bucket_floor(NOW))
    assert due_watch_ids(NOW) == []
    assert due_watch_ids(NOW + timedelta(minutes=5)) == [watch.pk]


def test_a_crisis_alerts_the_rules_destinations_with_its_explanation(source, watch, acme):
    from veilleur.crisis.models import AlertDelivery, AlertDestination, AlertRule

    destination = AlertDestination.objects.create(workspace=acme, name="ops",
                                                  url="json://127.0.0.1:9/hook")
    rule = AlertRule.objects.create(workspace=acme, watch=watch, max_severity=4,
                                    cooldown_minutes=30)
    rule.destinations.add(destination)
    end = bucket_floor(NOW)
    calm_week(source, watch, end - timedelta(minutes=30))
    for i in range(40):
        make_mention(source, f"Fibrelune arnaque, prélevé deux fois {i}", sentiment="negative",
                     published_at=end - timedelta(minutes=20 - i // 2), watches=[watch])
    recorded = run_watch(watch, NOW)
    assert recorded
    # Port 9 refuses: the attempts are logged per try, with the error in words.
    rows = AlertDelivery.objects.filter(destination=destination)
    assert rows.exists()
    assert {row.incident_id for row in rows} == {recorded[0].incident.pk}


def test_a_replayed_workspace_is_detected_on_the_replays_clock(watch, acme):
    from veilleur.connectors.replay import simulated_now
    from veilleur.crisis.runner import watch_clock

    started = NOW - timedelta(seconds=10)
    cursor = {"started_at": started.isoformat(),
              "anchor": (started - timedelta(days=7)).isoformat(), "position": 0}
    config = {"scenario": "demo", "speed": 1000.0}
    assert simulated_now(config, cursor, NOW) == started - timedelta(days=7) + timedelta(
        seconds=10_000)
    assert simulated_now(config, None, NOW) is None  # not started yet
    assert simulated_now(config, {"started_at": "garbage", "anchor": "x"}, NOW) is None
    assert watch_clock(watch, NOW) == NOW  # no replay: the real clock
    Source.objects.create(workspace=acme, name="replay", kind="replay", config=config,
                          cursor=cursor)
    assert watch_clock(watch, NOW) == started - timedelta(days=7) + timedelta(seconds=10_000)


def test_a_slow_rise_that_no_spike_reveals_opens_a_sustained_rise_incident(source, watch):
    # A calm week (one mention every 30 minutes), then from `rise` one every 5 minutes:
    # six times the usual, but never more than one mention in a bucket, so the spike
    # detector sees nothing worth an alert; the slow-rise detector sees it hold.
    rise = bucket_floor(NOW) - timedelta(hours=3)
    calm_week(source, watch, rise)
    for i in range(36):
        make_mention(source, f"Fibrelune box {i} en panne ce matin ?", sentiment="neutral",
                     published_at=rise + timedelta(minutes=5 * i, seconds=30),
                     watches=[watch], reach=100)
    assert run_watch(watch, rise) == []  # the first run learns the week before the rise
    recorded = []
    for step in range(1, 37):  # the scheduler, every five minutes
        recorded += run_watch(watch, rise + timedelta(minutes=5 * step))
    assert [r.signal.kind for r in recorded] == ["slow_rise"]
    signal = recorded[0].signal
    held = signal.window_end - rise
    assert timedelta(minutes=45) <= held <= timedelta(hours=2, minutes=30), held
    assert signal.window_start >= rise - timedelta(minutes=30)
    assert signal.observed >= 3 * signal.expected and signal.confidence > 0.9999
    assert "slow_rise" in signal.explanation["details"]
    assert signal.explanation["examples"]
    incident = recorded[0].incident
    assert incident.kind == "slow_rise" and incident.display_title == "Sustained rise on Fibrelune"
    state = DetectorState.objects.get(watch=watch).state
    assert set(state) == {"volume", "slow_rise"}


def test_a_state_saved_before_the_slow_rise_detector_still_loads(source, watch):
    end = bucket_floor(NOW)
    calm_week(source, watch, end)
    assert run_watch(watch, end - timedelta(hours=2)) == []
    saved = DetectorState.objects.get(watch=watch)
    DetectorState.objects.filter(pk=saved.pk).update(state=saved.state["volume"])
    assert run_watch(watch, NOW) == []
    state = DetectorState.objects.get(watch=watch).state
    # The slow-rise detector learned the week before its first bucket, silently.
    assert len(state["slow_rise"]["history"]) >= 6 * 288
