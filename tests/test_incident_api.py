"""Incidents in the API: list and detail, transitions, notes, false alarms; roles and isolation."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client

from tests.fakes import NOW, make_mention
from tests.test_incident_views import HOSTILE, english, signal_data  # noqa: F401 (fixture)
from veilleur.accounts.models import ApiToken, Role
from veilleur.crisis.incidents import detector_stats, record_signal, transition
from veilleur.crisis.models import Incident, IncidentEvent, IncidentState, Signal
from veilleur.monitoring.models import Source, Watch

pytestmark = pytest.mark.django_db


def token(workspace, role: Role) -> str:
    return ApiToken.issue(workspace, f"{workspace.slug}-{role}", role=role)[1]


def api(raw_token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw_token}"})


def post_json(client: Client, path: str, payload: object = None):
    if payload is None:
        return client.post(path)
    return client.post(path, payload, content_type="application/json")


@pytest.fixture
def world(acme, globex, alice, bob, charlie):
    watch = Watch.objects.create(workspace=acme, name="Fibrelune", query="fibrelune")
    other = Watch.objects.create(workspace=acme, name="Other", query="other")
    feed = Source.objects.create(workspace=acme, name="Feed", kind="rss")
    evidence = make_mention(feed, f"Prélevé deux fois {HOSTILE}", watches=[watch],
                            published_at=NOW - timedelta(minutes=2))
    explanation = {"top_terms": [HOSTILE], "examples": [{"id": evidence.pk,
                                                          "text": f"Prélevé {HOSTILE}"}]}
    ongoing = record_signal(watch, signal_data(at=NOW, explanation=explanation,
                                               mention_ids=(evidence.pk,)), NOW)
    old = record_signal(other, signal_data("vocabulary", at=NOW - timedelta(days=3)),
                        NOW - timedelta(days=3))
    transition(old.incident, IncidentState.RESOLVED, alice, NOW - timedelta(days=2))
    g_watch = Watch.objects.create(workspace=globex, name="Globex", query="globex")
    g_recorded = record_signal(g_watch, signal_data(at=NOW), NOW)
    return SimpleNamespace(
        acme=acme, watch=watch, other=other, evidence=evidence,
        incident=ongoing.incident, signal=ongoing.signal, old=old.incident,
        g_incident=g_recorded.incident, g_signal=g_recorded.signal,
        viewer=token(acme, Role.VIEWER), responder=token(acme, Role.RESPONDER),
        globex_owner=token(globex, Role.OWNER),
    )


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# ---- reading -------------------------------------------------------------------------------


def test_incidents_are_listed_newest_first_with_their_facts(world):
    response = api(world.viewer).get("/api/incidents")
    body = response.json()
    assert set(body) == {"count", "limit", "offset", "next", "previous", "items"}
    assert body["count"] == 2
    assert [item["id"] for item in body["items"]] == [world.incident.pk, world.old.pk]
    first = body["items"][0]
    assert first == {
        "id": world.incident.pk, "title": "Volume spike on Fibrelune", "kind": "volume",
        "watch_id": world.watch.pk, "watch_name": "Fibrelune", "severity": 3,
        "state": "open", "owner": None, "opened_at": "2026-03-01T12:00:00Z",
        "updated_at": "2026-03-01T12:00:00Z", "resolved_at": None, "signal_count": 1,
    }
    assert body["items"][1]["state"] == "resolved"
    assert body["items"][1]["resolved_at"] == "2026-02-27T12:00:00Z"


def test_titles_follow_the_callers_language(world):
    client = api(world.viewer)
    french = client.get(f"/api/incidents/{world.incident.pk}", HTTP_ACCEPT_LANGUAGE="fr")
    assert french.json()["title"] == "Pic de volume sur Fibrelune"
    listing = client.get("/api/incidents?state=ongoing", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert [item["title"] for item in listing["items"]] == ["Pic de volume sur Fibrelune"]
    in_english = client.get(f"/api/incidents/{world.incident.pk}", HTTP_ACCEPT_LANGUAGE="en")
    assert in_english.json()["title"] == "Volume spike on Fibrelune"


@pytest.mark.parametrize(("query", "expected"), [
    ("state=ongoing", ["incident"]), ("state=resolved", ["old"]),
    ("state=all", ["incident", "old"]),
    ("state=open", ["incident"]), ("state=acknowledged", []),
    ("watch={other}", ["old"]), ("state=ongoing&watch={other}", []),
])
def test_incidents_can_be_filtered_by_state_and_watch(world, query, expected):
    path = "/api/incidents?" + query.format(other=world.other.pk)
    assert ids(api(world.viewer).get(path)) == [getattr(world, name).pk for name in expected]


@pytest.mark.parametrize("query", ["state=closed", "watch=abc", "limit=0", "limit=201"])
def test_invalid_filters_are_422(world, query):
    assert api(world.viewer).get(f"/api/incidents?{query}").status_code == 422


def test_the_list_is_paginated(world):
    body = api(world.viewer).get("/api/incidents?limit=1").json()
    assert body["count"] == 2 and len(body["items"]) == 1
    assert body["next"] == "/api/incidents?limit=1&offset=1"


def test_one_incident_comes_with_signals_explanations_events_and_mentions(world):
    response = api(world.viewer).get(f"/api/incidents/{world.incident.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["next_states"] == ["acknowledged", "responding", "monitoring", "resolved"]
    assert body["mention_ids"] == [world.evidence.pk]
    [signal] = body["signals"]
    assert signal["id"] == world.signal.pk and signal["kind"] == "volume"
    assert (signal["observed"], signal["expected"], signal["confidence"]) == (40, 4, 0.9999)
    assert signal["false_alarm"] is False and signal["false_alarm_by"] is None
    # Untrusted text comes back verbatim, as JSON: the client escapes it for HTML.
    assert signal["explanation"]["top_terms"] == [HOSTILE]
    assert signal["explanation"]["examples"][0]["text"] == f"Prélevé {HOSTILE}"
    assert [(e["kind"], e["to_value"], e["actor"]) for e in body["events"]] == [
        ("state", "open", None), ("signal", "volume", None)]
    assert body["events"][1]["signal_id"] == world.signal.pk


def test_an_outsider_sees_only_his_own_incidents(world):
    client = api(world.globex_owner)
    assert ids(client.get("/api/incidents?state=all")) == [world.g_incident.pk]
    assert ids(client.get(f"/api/incidents?watch={world.watch.pk}")) == []
    response = client.get(f"/api/incidents/{world.incident.pk}")
    assert response.status_code == 404 and response.json() == {"detail": "incident not found"}
    assert b"Fibrelune" not in client.get("/api/incidents").content


# ---- transitions ---------------------------------------------------------------------------


def test_a_responder_moves_an_incident_and_the_change_is_stored(world, client_of, bob):
    path = f"/api/incidents/{world.incident.pk}/transition"
    response = post_json(api(world.responder), path, {"state": "acknowledged"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "acknowledged"
    assert body["next_states"] == ["responding", "monitoring", "resolved"]
    # A session records who did it; a token has no user.
    session = client_of(bob)
    response = post_json(session, f"{path}?workspace=acme",
                         {"state": "resolved", "note": "Refunds sent"})
    assert response.status_code == 200
    assert response.json()["resolved_at"] is not None
    changes = list(IncidentEvent.objects.filter(incident=world.incident, kind="state")
                   .values_list("from_value", "to_value", "actor__username", "note"))
    assert changes == [("", "open", None, ""), ("open", "acknowledged", None, ""),
                       ("acknowledged", "resolved", "bob", "Refunds sent")]
    assert response.json()["events"][-1]["actor"] == "bob"


def test_a_refused_transition_is_409_and_changes_nothing(world):
    response = post_json(api(world.responder), f"/api/incidents/{world.old.pk}/transition",
                         {"state": "monitoring"})
    assert response.status_code == 409
    assert response.json() == {
        "detail": "an incident cannot go from resolved to monitoring; allowed: open"}
    assert Incident.objects.get(pk=world.old.pk).state == "resolved"


@pytest.mark.parametrize("payload", [{}, {"state": "closed"}, {"state": "open", "note": 5},
                                     {"state": "open", "note": "x" * 5001}])
def test_an_invalid_transition_payload_is_422(world, payload):
    response = post_json(api(world.responder), f"/api/incidents/{world.incident.pk}/transition",
                         payload)
    assert response.status_code == 422


# ---- notes and false alarms ----------------------------------------------------------------


def test_a_note_is_added_to_the_timeline(world, client_of, bob):
    response = post_json(client_of(bob), f"/api/incidents/{world.incident.pk}/notes"
                         "?workspace=acme", {"text": f"Called billing {HOSTILE}"})
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "note" and body["actor"] == "bob"
    assert body["note"] == f"Called billing {HOSTILE}"
    event = IncidentEvent.objects.get(pk=body["id"])
    assert event.incident_id == world.incident.pk and event.actor == bob


@pytest.mark.parametrize("payload", [{}, {"text": ""}, {"text": "   \n"}, {"text": "x" * 5001}])
def test_a_blank_or_missing_note_is_422(world, payload):
    response = post_json(api(world.responder), f"/api/incidents/{world.incident.pk}/notes",
                         payload)
    assert response.status_code == 422
    assert not IncidentEvent.objects.filter(kind="note").exists()


def test_a_false_alarm_is_stored_and_counted_in_the_detector_figures(world, client_of, bob):
    path = f"/api/signals/{world.signal.pk}/false-alarm?workspace=acme"
    response = post_json(client_of(bob), path)
    assert response.status_code == 200
    body = response.json()
    assert body["false_alarm"] is True and body["false_alarm_by"] == "bob"
    assert body["false_alarm_at"] is not None
    stats = {row["kind"]: row for row in detector_stats(world.acme.pk)}
    assert (stats["volume"]["fired"], stats["volume"]["false_alarms"]) == (1, 1)
    # Idempotent: marking again keeps the first record and adds no event.
    again = post_json(api(world.responder), f"/api/signals/{world.signal.pk}/false-alarm")
    assert again.status_code == 200 and again.json()["false_alarm_by"] == "bob"
    assert IncidentEvent.objects.filter(signal=world.signal, kind="note").count() == 1
    detail = api(world.viewer).get(f"/api/incidents/{world.incident.pk}").json()
    assert detail["signals"][0]["false_alarm"] is True


# ---- roles and isolation -------------------------------------------------------------------


WRITES = [
    ("/api/incidents/{incident}/transition", {"state": "acknowledged"}),
    ("/api/incidents/{incident}/notes", {"text": "hello"}),
    ("/api/signals/{signal}/false-alarm", None),
]


def _fill(world, template: str) -> str:
    return template.format(incident=world.incident.pk, signal=world.signal.pk)


@pytest.mark.parametrize(("template", "payload"), WRITES)
def test_a_viewer_cannot_write(world, template, payload):
    response = post_json(api(world.viewer), _fill(world, template), payload)
    assert response.status_code == 403
    assert response.json() == {"detail": "this action needs the responder role or higher"}
    assert Incident.objects.get(pk=world.incident.pk).state == "open"
    assert not Signal.objects.get(pk=world.signal.pk).false_alarm
    assert not IncidentEvent.objects.filter(kind="note").exists()


@pytest.mark.parametrize(("template", "payload"), WRITES)
def test_an_outsider_gets_404_on_acme_ids_and_changes_nothing(world, template, payload):
    response = post_json(api(world.globex_owner), _fill(world, template), payload)
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]
    assert Incident.objects.get(pk=world.incident.pk).state == "open"
    assert not Signal.objects.get(pk=world.signal.pk).false_alarm
    assert IncidentEvent.objects.filter(incident=world.incident).count() == 2


@pytest.mark.parametrize(("template", "payload"), WRITES)
def test_an_outsider_session_naming_acme_is_refused(world, client_of, charlie, template,
                                                    payload):
    response = post_json(client_of(charlie), _fill(world, template) + "?workspace=acme", payload)
    assert response.status_code == 404
    assert response.json() == {"detail": "workspace not found"}


def test_alice_the_owner_can_write_too(world, client_of, alice):
    response = post_json(client_of(alice), f"/api/incidents/{world.incident.pk}/transition"
                         "?workspace=acme", {"state": "monitoring"})
    assert response.status_code == 200
    assert IncidentEvent.objects.filter(actor=alice, to_value="monitoring").exists()
