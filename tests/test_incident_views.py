"""The incident pages: list, detail, chart, explanations, and the actions of responders.

alice owns Acme, bob responds there, dora only views it; charlie owns Globex.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from tests.fakes import make_mention
from veilleur.accounts.models import Role, User
from veilleur.accounts.services import add_member
from veilleur.crisis.incidents import SignalData, add_note, record_signal, transition
from veilleur.crisis.models import Incident, IncidentEvent, IncidentState, Signal
from veilleur.monitoring.models import Source, Watch

pytestmark = pytest.mark.django_db

# The incident opens at 12:02 UTC (13:02 in Paris), inside the 12:00-12:05 bucket.
T0 = datetime(2026, 3, 1, 12, 2, tzinfo=UTC)
HOSTILE = '<script>alert("pwned")</script>'


def signal_data(kind: str = "volume", at: datetime = T0, severity: int = 3,
                mention_ids: tuple[int, ...] = (), explanation: dict | None = None) -> SignalData:
    return SignalData(
        kind=kind, window_start=at - timedelta(minutes=5), window_end=at, observed=40,
        expected=4, confidence=0.9999, severity=severity,
        explanation=explanation if explanation is not None else {
            "mentions": 12, "top_terms": ["prélevé", "remboursement"], "hashtags": ["#arnaque"],
            "sources": [{"name": "Forum", "count": 9}],
            "authors": [{"name": "@marie", "count": 3, "reach": 5400}],
            "sentiment": {"negative": 9, "neutral": 2, "unscored": 1},
            "examples": [{"id": 1, "text": "Prélevé deux fois ce mois-ci", "author": "@marie",
                          "url": "https://forum.example/t/1", "reach": 5400,
                          "sentiment": "negative"}],
            "volume": {"mentions": "40 observed vs 4.0 expected (10.0x)"},
        },
        mention_ids=mention_ids,
    )


@pytest.fixture(autouse=True)
def english():
    """Titles are written in the active language, and the locale middleware leaves a French
    user's language active in the thread: start and end every test in English."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def dora(acme):
    user = User.objects.create_user("dora", "dora@example.org", "dora-pw-123")
    add_member(acme, user, Role.VIEWER)
    return user


@pytest.fixture
def watch(acme):
    return Watch.objects.create(workspace=acme, name="Fibrelune", query="fibrelune")


@pytest.fixture
def forum(acme):
    return Source.objects.create(workspace=acme, name="Forum", kind="rss")


@pytest.fixture
def evidence(forum, watch):
    return make_mention(forum, "Fibrelune m'a prélevé deux fois", watches=[watch],
                        sentiment="negative", published_at=T0 - timedelta(minutes=3))


@pytest.fixture
def recorded(watch, evidence):
    return record_signal(watch, signal_data(mention_ids=(evidence.pk,)), T0)


@pytest.fixture
def incident(recorded) -> Incident:
    return recorded.incident


@pytest.fixture
def globex_incident(globex, charlie):
    watch = Watch.objects.create(workspace=globex, name="Globex watch", query="globex")
    return record_signal(watch, signal_data(), T0).incident


def body(response) -> str:
    return response.content.decode()


def detail(client, incident: Incident) -> str:
    response = client.get(reverse("incident", args=[incident.pk]))
    assert response.status_code == 200
    return body(response)


def row(page: str, incident: Incident) -> str:
    match = re.search(rf'<tr id="incident-{incident.pk}" class="incident-row">(.*?)</tr>', page,
                      re.S)
    assert match, f"no row for incident {incident.pk}"
    return re.sub(r"\s+", " ", match.group(1))


def post(client, name: str, pk: int, data: dict | None = None):
    return client.post(reverse(name, args=[pk]), data or {})


# ---- the list ------------------------------------------------------------------------------


def test_the_list_shows_each_incident_with_its_facts(client_of, alice, bob, watch, incident):
    record_signal(watch, signal_data("negative_shift", at=T0 + timedelta(minutes=5)),
                  T0 + timedelta(minutes=5))
    Incident.objects.filter(pk=incident.pk).update(owner=bob)
    page = body(client_of(alice).get(reverse("incidents")))
    cells = row(page, incident)
    assert '<span class="badge severity-3"' in cells and "Severity 3" in cells
    assert '<span class="badge state-open">Open</span>' in cells
    assert "<td>Fibrelune</td>" in cells
    assert f'<a href="{reverse("incident", args=[incident.pk])}">Volume spike on Fibrelune</a>' \
        in cells
    assert '<td class="num">2</td>' in cells  # two signals
    assert "<td>bob</td>" in cells
    assert 'datetime="2026-03-01T13:02:00+01:00"' in cells  # opened, in Paris time
    assert 'datetime="2026-03-01T13:07:00+01:00"' in cells  # last update


def test_the_list_filters_by_state_and_watch(client_of, alice, acme, incident):
    other = Watch.objects.create(workspace=acme, name="Other brand", query="other")
    old = record_signal(other, signal_data(), T0).incident
    transition(old, IncidentState.RESOLVED, alice, T0 + timedelta(hours=1))
    client = client_of(alice)

    def listed(**query) -> set[int]:
        page = body(client.get(reverse("incidents"), query))
        return {int(pk) for pk in re.findall(r'<tr id="incident-(\d+)"', page)}

    assert listed() == {incident.pk}  # ongoing by default
    assert listed(state="resolved") == {old.pk}
    assert listed(state="all") == {incident.pk, old.pk}
    assert listed(state="all", watch=other.pk) == {old.pk}
    assert listed(state="ongoing", watch=other.pk) == set()
    page = body(client.get(reverse("incidents"), {"state": "resolved", "watch": other.pk}))
    assert f'href="?state=all&amp;watch={other.pk}"' in page  # the tabs keep the watch
    assert 'aria-current="page">Resolved</a>' in page
    # Nonsense falls back to the defaults and says what was wrong.
    response = client.get(reverse("incidents"), {"state": "<b>", "watch": "abc"})
    assert response.status_code == 200
    assert 'class="field-error"' in body(response)


def test_ongoing_incidents_come_most_severe_first_at_a_fixed_cost(client_of, alice, acme):
    client = client_of(alice)

    def listed() -> tuple[list[int], int]:
        """The incidents listed, in order, and the queries the page cost."""
        with CaptureQueriesContext(connection) as queries:
            page = body(client.get(reverse("incidents")))
        shown = [int(pk) for pk in re.findall(r'<tr id="incident-(\d+)"', page)]
        return shown, len(queries.captured_queries)

    incidents = []
    for n, severity in enumerate([3, 1, 4, 2]):
        watch = Watch.objects.create(workspace=acme, name=f"W{n}", query=f"w{n}")
        incidents.append(record_signal(watch, signal_data(severity=severity),
                                       T0 + timedelta(minutes=n)).incident)
    shown, few = listed()
    assert shown == [incidents[i].pk for i in (1, 3, 0, 2)]
    for n in range(4, 10):
        watch = Watch.objects.create(workspace=acme, name=f"W{n}", query=f"w{n}")
        recorded = record_signal(watch, signal_data(), T0)
        record_signal(watch, signal_data("vocabulary"), T0)
        Incident.objects.filter(pk=recorded.incident.pk).update(owner=alice)
    shown, many = listed()
    assert len(shown) == 10 and many == few


def test_an_empty_list_says_so(client_of, alice):
    page = body(client_of(alice).get(reverse("incidents")))
    assert "No ongoing incident." in page


def test_the_list_is_paginated(client_of, alice, acme):
    for n in range(52):
        watch = Watch.objects.create(workspace=acme, name=f"W{n}", query=f"w{n}")
        record_signal(watch, signal_data(), T0 + timedelta(minutes=n))
    client = client_of(alice)
    first = body(client.get(reverse("incidents")))
    assert first.count('class="incident-row"') == 50 and "Page 1 of 2" in first
    second = body(client.get(reverse("incidents"), {"page": 2}))
    assert second.count('class="incident-row"') == 2


def test_incidents_are_in_the_navigation(client_of, alice, incident):
    client = client_of(alice)
    mentions = body(client.get(reverse("mentions")))
    assert f'<a href="{reverse("incidents")}">Incidents</a>' in mentions
    assert 'aria-current="page">Incidents</a>' in body(client.get(reverse("incidents")))
    assert 'aria-current="page">Incidents</a>' in detail(client, incident)


def test_anonymous_visitors_are_sent_to_log_in(client, incident):
    for url in (reverse("incidents"), reverse("incident", args=[incident.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = post(client, "incident_note", incident.pk, {"text": "hello"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not IncidentEvent.objects.filter(kind="note").exists()


def test_an_outsider_sees_nothing_of_another_workspace(client_of, charlie, incident, recorded,
                                                        globex_incident):
    client = client_of(charlie)
    page = body(client.get(reverse("incidents")))
    assert f'id="incident-{globex_incident.pk}"' in page
    assert "Fibrelune" not in page
    assert client.get(reverse("incident", args=[incident.pk])).status_code == 404
    events = IncidentEvent.objects.count()
    for name, pk, data in [
        ("incident_transition", incident.pk, {"state": "acknowledged"}),
        ("incident_note", incident.pk, {"text": "mine now"}),
        ("incident_assign", incident.pk, {"owner": str(charlie.pk)}),
        ("signal_false_alarm", recorded.signal.pk, {}),
    ]:
        assert post(client, name, pk, data).status_code == 404, name
    incident.refresh_from_db()
    assert incident.state == "open" and incident.owner is None
    assert not Signal.objects.get(pk=recorded.signal.pk).false_alarm
    assert IncidentEvent.objects.count() == events
    # Globex's detector figures do not count Acme's signals.
    stats = body(client.get(reverse("incidents")))
    assert re.search(r'data-kind="volume">\s*<th scope="row">Volume spike</th>\s*'
                     r'<td class="num">1</td>', stats)


# ---- the incident page ---------------------------------------------------------------------


def test_the_page_shows_header_signal_explanation_timeline_and_mentions(client_of, alice,
                                                                        incident, evidence):
    page = detail(client_of(alice), incident)
    assert "<h1>Volume spike on Fibrelune</h1>" in page
    assert "Severity 3" in page
    assert '<span class="badge state-open" id="incident-state">Open' in page
    assert '<dd id="incident-owner"><span class="muted">Nobody</span></dd>' in page
    # The signal, readably.
    assert "40 observed, 4 expected (confidence 99.9 %) · 12 mentions in the window" in page
    assert '<span class="tag">prélevé</span>' in page
    assert '<span class="tag">#arnaque</span>' in page
    assert 'Forum <span class="muted">(9)</span>' in page
    assert '@marie <span class="muted">(3 · reach 5,400)</span>' in page
    assert "Negative 9 (75 %)" in page and "Neutral 2 (17 %)" in page
    assert "Not scored 1 (8 %)" in page
    assert "<blockquote class=\"mention-text\">Prélevé deux fois ce mois-ci</blockquote>" in page
    assert 'href="https://forum.example/t/1" rel="noopener noreferrer nofollow"' in page
    assert "40 observed vs 4.0 expected (10.0x)" in page
    # The timeline.
    timeline = re.sub(r"\s+", " ", page.split('id="timeline"')[1])
    assert "Veilleur</span></span> <span class=\"event-what\">Incident opened" in timeline
    assert f'<a href="#signal-{incident.signals.get().pk}">Signal: Volume spike</a>' in timeline
    # The linked mention, with the sentiment buttons coming back to this page.
    assert f'id="mention-{evidence.pk}"' in page
    assert f'<input type="hidden" name="next" value="{reverse("incident", args=[incident.pk])}">' \
        in page


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_responders_and_above_get_the_actions_with_the_allowed_states_only(request, client_of,
                                                                          alice, bob, incident,
                                                                          who):
    page = detail(client_of(request.getfixturevalue(who)), incident)
    buttons = re.findall(r'<button type="submit" name="state" value="(\w+)"', page)
    assert buttons == ["acknowledged", "responding", "monitoring", "resolved"]
    assert reverse("incident_note", args=[incident.pk]) in page
    assert reverse("incident_assign", args=[incident.pk]) in page
    assert reverse("signal_false_alarm", args=[incident.signals.get().pk]) in page
    owners = page.split('id="owner-select"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\d*)"[^>]*>(\w+)', owners) == [
        ("", "Nobody"), (str(alice.pk), "alice"), (str(bob.pk), "bob")]


def test_viewers_see_the_incident_but_cannot_act(client_of, dora, incident, recorded):
    client = client_of(dora)
    page = detail(client, incident)
    assert "Volume spike on Fibrelune" in page
    assert 'name="state"' not in page
    assert reverse("incident_note", args=[incident.pk]) not in page
    assert reverse("signal_false_alarm", args=[recorded.signal.pk]) not in page
    assert "Only responders, managers and owners can change an incident." in page
    events = IncidentEvent.objects.count()
    for name, pk, data in [
        ("incident_transition", incident.pk, {"state": "acknowledged"}),
        ("incident_note", incident.pk, {"text": "I was here"}),
        ("incident_assign", incident.pk, {"owner": str(dora.pk)}),
        ("signal_false_alarm", recorded.signal.pk, {}),
    ]:
        assert post(client, name, pk, data).status_code == 403, name
    assert IncidentEvent.objects.count() == events
    incident.refresh_from_db()
    assert incident.state == "open" and incident.owner is None
    assert not Signal.objects.get(pk=recorded.signal.pk).false_alarm


def test_the_actions_refuse_get(client_of, alice, incident):
    client = client_of(alice)
    assert client.get(reverse("incident_transition", args=[incident.pk])).status_code == 405
    assert client.get(reverse("incident_note", args=[incident.pk])).status_code == 405


# ---- transitions ---------------------------------------------------------------------------


def test_transitions_are_stored_with_their_actor_and_shown(client_of, bob, incident):
    client = client_of(bob)
    response = post(client, "incident_transition", incident.pk,
                    {"state": "acknowledged", "current": "open", "note": "Billing team on it"})
    assert response.status_code == 302
    assert response["Location"] == reverse("incident", args=[incident.pk])
    event = IncidentEvent.objects.get(kind="state", to_value="acknowledged")
    assert (event.actor, event.from_value, event.note) == (bob, "open", "Billing team on it")
    page = body(client.get(response["Location"]))
    assert "The incident is now “Acknowledged”." in page
    assert '<span class="event-actor">bob</span>' in page
    assert "State changed from “Open” to “Acknowledged”" in page
    assert '<p class="event-note">Billing team on it</p>' in page
    assert re.findall(r'name="state" value="(\w+)"', page) == ["responding", "monitoring",
                                                              "resolved"]
    post(client, "incident_transition", incident.pk, {"state": "resolved", "current":
                                                      "acknowledged"})
    incident.refresh_from_db()
    assert incident.state == "resolved" and incident.resolved_at is not None
    page = detail(client, incident)
    assert "<dt>Resolved</dt>" in page
    assert re.findall(r'name="state" value="(\w+)"', page) == ["open"]  # reopen only
    assert list(incident.events.filter(kind="state").values_list("to_value", "actor__username")) \
        == [("open", None), ("acknowledged", "bob"), ("resolved", "bob")]
    # The list moves it to the resolved tab.
    assert f'id="incident-{incident.pk}"' not in body(client.get(reverse("incidents")))


def test_a_refused_transition_says_why_and_keeps_the_comment(client_of, bob, incident):
    client = client_of(bob)
    response = post(client, "incident_transition", incident.pk,
                    {"state": "open", "current": "open", "note": "Keep <this> text"})
    assert response.status_code == 409
    page = body(response)
    assert "An incident cannot go from “Open” to “Open”." in page
    assert '<li class="message error">' in page
    assert ">Keep &lt;this&gt; text</textarea>" in page
    assert not IncidentEvent.objects.filter(kind="state", actor=bob).exists()
    bogus = body(post(client, "incident_transition", incident.pk, {"state": "<b>gone</b>"}))
    assert "“&lt;b&gt;gone&lt;/b&gt;”" in bogus and "<b>gone</b>" not in bogus
    incident.refresh_from_db()
    assert incident.state == "open"


def test_a_change_made_meanwhile_is_not_overwritten(client_of, alice, bob, incident):
    transition(incident, IncidentState.MONITORING, alice, T0 + timedelta(minutes=1))
    # bob's page still said "open"; monitoring -> resolved would be allowed, but he did not
    # see that state.
    response = post(client_of(bob), "incident_transition", incident.pk,
                    {"state": "resolved", "current": "open", "note": "done?"})
    assert response.status_code == 409
    page = body(response)
    assert "Someone changed this incident while you were reading it: it is now “Monitoring”." \
        in page
    assert ">done?</textarea>" in page
    incident.refresh_from_db()
    assert incident.state == "monitoring"


# ---- notes, owner, false alarms ------------------------------------------------------------


def test_a_note_is_added_to_the_timeline_escaped(client_of, bob, incident):
    client = client_of(bob)
    response = post(client, "incident_note", incident.pk, {"text": f"Called them\n{HOSTILE}"})
    assert response.status_code == 302
    event = IncidentEvent.objects.get(kind="note")
    assert event.actor == bob and event.note == f"Called them\n{HOSTILE}"
    assert response["Location"].endswith(f"#event-{event.pk}")
    page = body(client.get(reverse("incident", args=[incident.pk])))
    assert "Note added." in page
    assert "Called them<br>&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    assert HOSTILE not in page


def test_an_empty_note_is_refused_with_a_message(client_of, bob, incident):
    response = post(client_of(bob), "incident_note", incident.pk, {"text": "   \n "})
    assert response.status_code == 400
    assert "A note cannot be empty." in body(response)
    assert not IncidentEvent.objects.filter(kind="note").exists()


def test_an_owner_is_assigned_among_members_and_can_be_removed(client_of, alice, bob, charlie,
                                                               incident):
    client = client_of(alice)
    response = post(client, "incident_assign", incident.pk, {"owner": str(bob.pk)})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.owner == bob
    event = IncidentEvent.objects.get(kind="owner")
    assert (event.actor, event.from_value, event.to_value) == (alice, "", "bob")
    page = body(client.get(response["Location"]))
    assert "Incident assigned to bob." in page and "Assigned to bob" in page
    assert '<dd id="incident-owner">bob</dd>' in page
    assert f'<option value="{bob.pk}" selected>bob</option>' in page
    # charlie is not a member of Acme.
    refused = post(client, "incident_assign", incident.pk, {"owner": str(charlie.pk)})
    assert refused.status_code == 400
    assert "Choose a member of this workspace." in body(refused)
    incident.refresh_from_db()
    assert incident.owner == bob
    same = post(client, "incident_assign", incident.pk, {"owner": str(bob.pk)})
    assert "already has that owner" in body(client.get(same["Location"]))
    post(client, "incident_assign", incident.pk, {"owner": ""})
    incident.refresh_from_db()
    assert incident.owner is None
    assert "Owner removed (was bob)" in detail(client, incident)
    assert IncidentEvent.objects.filter(kind="owner").count() == 2


def detector_row(page: str, kind: str) -> list[str]:
    match = re.search(rf'<tr class="detector-row" data-kind="{kind}">(.*?)</tr>', page, re.S)
    assert match, f"no detector row for {kind}"
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", match.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]


def test_a_false_alarm_is_stored_shown_and_counted_in_the_detector_figures(
        client_of, alice, bob, watch, recorded):
    record_signal(watch, signal_data("vocabulary", at=T0 + timedelta(minutes=5)),
                  T0 + timedelta(minutes=5))
    client = client_of(bob)
    assert detector_row(body(client.get(reverse("incidents"))), "volume") == [
        "Volume spike", "1", "0 (0.0 %)"]
    signal = recorded.signal
    response = post(client, "signal_false_alarm", signal.pk)
    assert response.status_code == 302
    assert response["Location"] == (f'{reverse("incident", args=[recorded.incident.pk])}'
                                    f"#signal-{signal.pk}")
    signal.refresh_from_db()
    assert signal.false_alarm and signal.false_alarm_by == bob
    page = body(client.get(response["Location"]))
    assert "it counts in the figures of the “Volume spike” detector" in page
    card = page.split(f'id="signal-{signal.pk}"')[1].split("</article>")[0]
    assert "False alarm · bob" in card
    assert reverse("signal_false_alarm", args=[signal.pk]) not in card
    assert "Signal “Volume spike” marked as a false alarm" in page
    stats = body(client.get(reverse("incidents")))
    assert detector_row(stats, "volume") == ["Volume spike", "1", "1 (100.0 %)"]
    assert detector_row(stats, "vocabulary") == ["Crisis vocabulary", "1", "0 (0.0 %)"]
    assert detector_row(stats, "emerging_story") == ["Emerging story", "0", "0"]
    again = post(client, "signal_false_alarm", signal.pk)
    assert "already marked as a false alarm" in body(client.get(again["Location"]))
    assert IncidentEvent.objects.filter(kind="note", signal=signal).count() == 1


# ---- the chart -----------------------------------------------------------------------------


def chart_rows(page: str) -> dict[datetime, list[int]]:
    """Bucket start (UTC) -> [negative, neutral, positive, not scored]."""
    rows = re.findall(
        r'<tr class="chart-row" data-start="([^"]+)"><th scope="row">[^<]*</th>'
        r"<td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>", page)
    return {datetime.fromisoformat(start).astimezone(UTC): [int(n) for n in counts]
            for start, *counts in rows}


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 3, 1, hour, minute, tzinfo=UTC)


def test_the_chart_counts_the_watchs_mentions_per_5_minutes_and_sentiment(
        client_of, alice, acme, globex, forum, watch, incident):
    transition(incident, IncidentState.RESOLVED, alice, at(13, 0))
    other = Watch.objects.create(workspace=acme, name="Other", query="other")
    for minute, sentiment in [(3, "negative"), (4, "positive")]:
        make_mention(forum, "in the opening bucket", watches=[watch], sentiment=sentiment,
                     published_at=at(12, minute))
    make_mention(forum, "before", watches=[watch], sentiment="negative", published_at=at(11, 58))
    make_mention(forum, "later", watches=[watch], sentiment="neutral", published_at=at(12, 31))
    make_mention(forum, "unscored", watches=[watch], published_at=at(12, 34))
    make_mention(forum, "first bucket", watches=[watch], sentiment="positive",
                 published_at=at(6, 0))
    make_mention(forum, "too early", watches=[watch], sentiment="negative",
                 published_at=at(5, 59))
    make_mention(forum, "too late", watches=[watch], sentiment="negative",
                 published_at=at(13, 5))
    make_mention(forum, "another watch", watches=[other], sentiment="negative",
                 published_at=at(12, 3))
    make_mention(forum, "no watch", sentiment="negative", published_at=at(12, 3))
    g_source = Source.objects.create(workspace=globex, name="G", kind="rss")
    make_mention(g_source, "globex", sentiment="negative", published_at=at(12, 3))

    page = detail(client_of(alice), incident)
    assert 'data-unit="minutes"' in page
    rows = chart_rows(page)
    # From six hours before 12:02 (06:02, so the 06:00 bucket) to the 13:00 bucket.
    assert min(rows) == at(6, 0) and max(rows) == at(13, 0) and len(rows) == 85
    assert rows[at(6, 0)] == [0, 0, 1, 0]
    # The evidence mention (11:59) and the 11:58 one share the 11:55 bucket.
    assert rows[at(11, 55)] == [2, 0, 0, 0]
    assert rows[at(12, 0)] == [1, 0, 1, 0]
    assert rows[at(12, 30)] == [0, 1, 0, 1]
    assert sum(sum(c) for c in rows.values()) == 7
    assert "Negative: <strong>3</strong>" in page and "Not scored: <strong>1</strong>" in page
    opened = re.findall(r'data-start="([^"]+)"><th scope="row">[^<]*\(incident opened\)', page)
    assert [datetime.fromisoformat(s).astimezone(UTC) for s in opened] == [at(12, 0)]


def test_a_longer_incident_is_charted_per_hour_up_to_now(client_of, alice, forum, watch):
    now = timezone.now()
    opened = now - timedelta(days=2)
    incident = record_signal(watch, signal_data(at=opened), opened).incident
    make_mention(forum, "when it started", watches=[watch], sentiment="negative",
                 published_at=opened + timedelta(minutes=1))
    make_mention(forum, "just now", watches=[watch], sentiment="positive",
                 published_at=now - timedelta(minutes=1))
    make_mention(forum, "a week ago", watches=[watch], sentiment="negative",
                 published_at=now - timedelta(days=7))
    page = detail(client_of(alice), incident)
    assert 'data-unit="hours"' in page
    rows = chart_rows(page)
    assert 54 <= len(rows) <= 56  # 6 + 48 hours, plus the partial ones at both ends
    assert all(start.minute == 0 for start in rows)
    assert sum(sum(c) for c in rows.values()) == 2


def test_an_incident_of_weeks_is_charted_per_day(client_of, alice, forum, watch):
    opened = timezone.now() - timedelta(days=20)
    incident = record_signal(watch, signal_data(at=opened), opened).incident
    make_mention(forum, "then", watches=[watch], sentiment="negative",
                 published_at=opened + timedelta(hours=1))
    page = detail(client_of(alice), incident)
    assert 'data-unit="days"' in page
    rows = chart_rows(page)
    assert 20 <= len(rows) <= 22
    assert sum(sum(c) for c in rows.values()) == 1


def test_a_quiet_window_says_so(client_of, alice, acme):
    quiet = Watch.objects.create(workspace=acme, name="Quiet", query="quiet")
    incident = record_signal(quiet, signal_data(), T0).incident
    assert "No mention of this watch in this window." in detail(client_of(alice), incident)


# ---- escaping, limits, cost ----------------------------------------------------------------


def test_hostile_text_stays_escaped_in_explanations_timeline_mentions_and_list(
        client_of, alice, acme, forum):
    watch = Watch.objects.create(workspace=acme, name=f"Brand {HOSTILE}", query="brand")
    mention = make_mention(forum, f"mention {HOSTILE}", watches=[watch],
                           published_at=T0 - timedelta(minutes=1),
                           url="javascript:alert(1)")
    explanation = {
        "mentions": 3, "top_terms": [HOSTILE], "hashtags": ["<img src=x onerror=alert(2)>"],
        "sources": [{"name": HOSTILE, "count": 2}], "authors": [{"name": HOSTILE, "count": 1}],
        "sentiment": {"negative": "<b>", "neutral": 1},
        "examples": [{"id": mention.pk, "text": f"example {HOSTILE}", "author": HOSTILE,
                      "url": "javascript:alert(3)", "sentiment": HOSTILE}],
        "details": {HOSTILE: [HOSTILE]}, "volume": "<i>not a mapping</i>",
    }
    recorded = record_signal(watch, signal_data(explanation=explanation,
                                                mention_ids=(mention.pk,)), T0)
    add_note(recorded.incident, alice, HOSTILE, T0)
    client = client_of(alice)
    for page in (detail(client, recorded.incident), body(client.get(reverse("incidents")))):
        assert "<script>" not in page and "<img src=x" not in page
        assert "javascript:" not in page
        assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    page = detail(client, recorded.incident)
    assert "example &lt;script&gt;" in page and "mention &lt;script&gt;" in page
    assert '<span class="tag">#&lt;img src=x onerror=alert(2)&gt;</span>' in page
    assert "Neutral 1 (100 %)" in page  # the non-number count is ignored


def test_linked_mentions_show_the_newest_20(client_of, alice, forum, watch):
    mentions = [make_mention(forum, f"evidence {n}", watches=[watch],
                             published_at=T0 - timedelta(minutes=n)) for n in range(25)]
    incident = record_signal(watch, signal_data(mention_ids=tuple(m.pk for m in mentions)),
                             T0).incident
    page = detail(client_of(alice), incident)
    shown = [int(pk) for pk in re.findall(r'<article class="mention" id="mention-(\d+)"', page)]
    assert shown == [m.pk for m in mentions[:20]]
    assert "25 mentions · the newest 20 shown" in page


def test_the_page_costs_the_same_queries_whatever_the_incident_holds(
        client_of, alice, bob, forum, watch, incident):
    client = client_of(alice)
    with CaptureQueriesContext(connection) as few:
        detail(client, incident)
    for n in range(1, 8):
        mention = make_mention(forum, f"more {n}", watches=[watch], sentiment="negative",
                               published_at=T0 + timedelta(minutes=n))
        record_signal(watch, signal_data("negative_shift", at=T0 + timedelta(minutes=5 * n),
                                         mention_ids=(mention.pk,)), T0 + timedelta(minutes=n))
        add_note(incident, bob, f"note {n}", T0 + timedelta(minutes=n))
    with CaptureQueriesContext(connection) as many:
        page = detail(client, incident)
    assert page.count('class="signal-card') == 8
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_pages_are_in_french_for_french_users(client_of, alice, incident):
    alice.language = "fr"
    alice.save()
    client = client_of(alice)
    page = detail(client, incident)
    assert "Pic de volume" in page and "Gravité 3" in page
    assert "Chronologie" in page and "Incident ouvert" in page
    assert "40 observés, 4 attendus (confiance 99,9\xa0%)" in page
    listing = body(client.get(reverse("incidents")))
    assert "Détecteurs" in listing and "Fausses alertes" in listing


def test_an_incident_opened_in_english_is_titled_in_the_readers_language(
        client_of, alice, incident):
    # Opened while English was active (the scheduler's language): the stored title is
    # English, but every page composes it again in the reader's language.
    assert incident.title == "Volume spike on Fibrelune" and incident.kind == "volume"
    assert "<h1>Volume spike on Fibrelune</h1>" in detail(client_of(alice), incident)
    alice.language = "fr"
    alice.save()
    french = client_of(alice)
    page = detail(french, incident)
    assert "<h1>Pic de volume sur Fibrelune</h1>" in page
    assert "<title>Pic de volume sur Fibrelune · Incidents" in page
    assert "Volume spike on" not in page
    listing = row(body(french.get(reverse("incidents"))), incident)
    assert "Pic de volume sur Fibrelune</a>" in listing


def test_a_reader_without_a_saved_language_gets_the_title_in_the_browsers_language(
        client, alice, incident):
    client.force_login(alice)  # no saved language: the browser's wins
    alice.language = ""
    alice.save()
    page = body(client.get(reverse("incident", args=[incident.pk]),
                           HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9"))
    assert "<h1>Pic de volume sur Fibrelune</h1>" in page


def test_an_incident_of_unknown_kind_shows_its_stored_title(client_of, alice, incident):
    Incident.objects.filter(pk=incident.pk).update(kind="", title="Written by hand")
    assert "<h1>Written by hand</h1>" in detail(client_of(alice), incident)
