"""Signals open or update one incident per watch; states, notes, false alarms."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes import NOW, make_mention
from veilleur.analysis.detection.severity import severity
from veilleur.crisis.incidents import (
    SignalData,
    TransitionRefused,
    add_note,
    assign,
    detector_stats,
    mark_false_alarm,
    record_signal,
    transition,
)
from veilleur.crisis.models import Incident, IncidentEvent, IncidentState, Signal
from veilleur.monitoring.models import Source, Watch


@pytest.fixture
def watch(acme):
    return Watch.objects.create(workspace=acme, name="Fibrelune", query="fibrelune")


def found(kind="volume", minutes=0, sev=3, mention_ids=()):
    end = NOW + timedelta(minutes=minutes)
    return SignalData(kind=kind, window_start=end - timedelta(minutes=5), window_end=end,
                      observed=40, expected=4, confidence=0.9999, severity=sev,
                      explanation={"top_terms": ["double"]}, mention_ids=tuple(mention_ids))


def test_a_first_signal_opens_an_incident_and_later_ones_update_it(watch):
    first = record_signal(watch, found(), NOW)
    assert first is not None and first.opened
    assert first.incident.state == IncidentState.OPEN and first.incident.severity == 3
    second = record_signal(watch, found("negative_shift", minutes=5, sev=2),
                           NOW + timedelta(minutes=5))
    assert second is not None and not second.opened
    assert second.incident.pk == first.incident.pk
    assert Incident.objects.count() == 1
    incident = Incident.objects.get()
    assert incident.severity == 2  # raised by the stronger signal, and recorded
    kinds = list(incident.events.values_list("kind", "to_value"))
    assert kinds == [("state", "open"), ("signal", "volume"), ("signal", "negative_shift"),
                     ("severity", "2")]


def test_the_same_window_twice_is_ignored(watch):
    assert record_signal(watch, found(), NOW) is not None
    assert record_signal(watch, found(), NOW) is None
    assert Signal.objects.count() == 1


def test_a_resolved_incident_is_not_reused(watch, alice):
    incident = record_signal(watch, found(), NOW).incident
    transition(incident, IncidentState.RESOLVED, alice, NOW)
    again = record_signal(watch, found(minutes=60), NOW + timedelta(hours=1))
    assert again.opened and again.incident.pk != incident.pk


def test_states_follow_the_transition_table_and_every_change_is_stored(watch, alice):
    incident = record_signal(watch, found(), NOW).incident
    transition(incident, IncidentState.ACKNOWLEDGED, alice, NOW)
    transition(incident, IncidentState.RESPONDING, alice, NOW + timedelta(minutes=1))
    with pytest.raises(TransitionRefused, match="cannot go from"):
        transition(incident, IncidentState.ACKNOWLEDGED, alice, NOW)
    transition(incident, IncidentState.RESOLVED, alice, NOW + timedelta(minutes=2))
    incident.refresh_from_db()
    assert incident.resolved_at == NOW + timedelta(minutes=2)
    changes = list(incident.events.filter(kind="state").values_list("from_value", "to_value",
                                                                    "actor__username"))
    assert changes == [("", "open", None), ("open", "acknowledged", "alice"),
                       ("acknowledged", "responding", "alice"), ("responding", "resolved", "alice")]


def test_evidence_mentions_and_their_stories_are_linked(watch, acme):
    source = Source.objects.create(workspace=acme, name="feed", kind="file")
    mention = make_mention(source, "Fibrelune m'a prélevé deux fois")
    incident = record_signal(watch, found(mention_ids=[mention.pk]), NOW).incident
    assert list(incident.mentions.all()) == [mention]


def test_notes_owner_and_false_alarms(watch, alice, bob):
    recorded = record_signal(watch, found(), NOW)
    add_note(recorded.incident, alice, "Called the billing team", NOW)
    with pytest.raises(ValueError):
        add_note(recorded.incident, alice, "   ", NOW)
    assign(recorded.incident, bob, alice, NOW)
    mark_false_alarm(recorded.signal, bob, NOW)
    assert Signal.objects.get().false_alarm
    stats = {row["kind"]: row for row in detector_stats(watch.workspace_id)}
    assert stats["volume"]["fired"] == 1 and stats["volume"]["false_alarms"] == 1
    assert stats["volume"]["false_alarm_rate"] == 1.0
    assert stats["vocabulary"]["fired"] == 0 and stats["vocabulary"]["false_alarm_rate"] is None
    kinds = list(IncidentEvent.objects.values_list("kind", flat=True))
    assert kinds.count("note") == 2 and "owner" in kinds


@pytest.mark.parametrize(
    ("confidence", "ratio", "reach", "expected"),
    [(0.9, 1.5, 1, 4), (0.9999, 2, 1, 4), (0.9999, 4, 1, 3), (0.9999999, 4, 1, 2),
     (0.9999999, 12, 1, 2), (0.9999999, 12, 20, 1), (0.5, 1, 500, 3)],
)
def test_severity_grows_with_strength_and_reach(confidence, ratio, reach, expected):
    assert severity(confidence, ratio, reach) == expected


def test_incidents_keep_their_opening_kind_and_older_ones_get_it_from_their_timeline(watch,
                                                                                   acme):
    import importlib

    from django.apps import apps

    first = record_signal(watch, found("negative_shift"), NOW)
    record_signal(watch, found("volume", minutes=5), NOW + timedelta(minutes=5))
    assert first.incident.kind == "negative_shift"
    other = Watch.objects.create(workspace=acme, name="Other", query="other")
    second = record_signal(other, found("vocabulary"), NOW).incident
    Signal.objects.filter(incident=second).delete()  # the timeline still says its kind
    third = Watch.objects.create(workspace=acme, name="Third", query="third")
    third_incident = record_signal(third, found("emerging_story"), NOW).incident
    IncidentEvent.objects.filter(incident=third_incident, kind="signal").delete()
    bare = Incident.objects.create(workspace=acme, watch=Watch.objects.create(
        workspace=acme, name="Bare", query="bare"), title="By hand")
    # As before migration 0002: no kind stored.
    Incident.objects.update(kind="")

    migration = importlib.import_module("veilleur.crisis.migrations.0002_incident_kind")
    migration.fill_kind(apps, None)

    kinds = dict(Incident.objects.values_list("pk", "kind"))
    assert kinds == {first.incident.pk: "negative_shift", second.pk: "vocabulary",
                     third_incident.pk: "emerging_story", bare.pk: ""}
    assert Incident.objects.get(pk=bare.pk).display_title == "By hand"
