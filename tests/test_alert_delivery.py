"""Alerts are delivered for real over loopback: to a local SMTP server (aiosmtpd) and to a
local HTTP receiver (Apprise's json:// and form:// webhooks), in French and English, with
quiet hours, cooldown, rate limit, retries and destinations that disable themselves."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import socket
import threading
from datetime import UTC, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller

from veilleur.crisis.alerts import alert_for_incident, in_quiet_hours, masked_url
from veilleur.crisis.digests import send_digests
from veilleur.crisis.models import (
    AlertDelivery,
    AlertDestination,
    AlertRule,
    DeliveryStatus,
    Incident,
    IncidentEvent,
    Signal,
)
from veilleur.crisis.tasks import deliver_alerts_task
from veilleur.monitoring.models import Watch

# 14:05 in Paris (winter): outside the quiet hours used below.
NOW = datetime(2025, 1, 15, 13, 5, tzinfo=UTC)
HOSTILE = ("Acme m'a arnaqué <script>alert('x')</script> \x1b[31m@everyone\u202e "
           "line\r\nSubject: forged")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- loopback receivers ---------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 Message accepted"


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line
    mailbox.url = (f"mailto://127.0.0.1:{controller.port}"
                   "?from=veilleur@example.org&to=crisis-team@example.org")
    yield mailbox
    controller.stop()


class Receiver(ThreadingHTTPServer):
    requests: list[tuple[str, str, bytes]]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.server.requests.append((self.path, self.headers.get("Content-Type", ""),
                                     self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = Receiver(("127.0.0.1", 0), _Handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    server.port = server.server_address[1]
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


# ---- data -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def alert_settings(settings):
    settings.ALERT_RETRY_DELAYS = (0, 0)
    settings.TIME_ZONE = "Europe/Paris"
    settings.BASE_URL = "https://veilleur.example.org"


@pytest.fixture
def watch(acme):
    return Watch.objects.create(workspace=acme, name="Acme Box", query="Acme")


@pytest.fixture
def incident(acme, watch):
    return Incident.objects.create(workspace=acme, watch=watch, title="Spike around Acme Box",
                                   severity=2, opened_at=NOW - timedelta(minutes=10))


def make_signal(incident, *, minutes=0, kind="volume", **fields):
    end = NOW + timedelta(minutes=minutes)
    values = {
        "observed": 48, "expected": 6.2, "confidence": 0.998, "severity": incident.severity,
        "explanation": {
            "top_terms": [["arnaque", 21], ["remboursement", 9]],
            "hashtags": ["boycottacme"],
            "sources": [{"name": "x.com", "count": 30}, {"name": "forum.example", "count": 5}],
            "authors": [{"handle": "@bigvoice", "count": 4}],
            "sentiment": {"negative": 35, "neutral": 12, "positive": 3},
            "examples": [
                {"text": HOSTILE, "author": "@angry\x07user", "url": "javascript:alert(1)"},
                {"text": "Colis jamais reçu, service client muet", "author": "@paul",
                 "url": "https://x.com/paul/status/1"},
                {"text": "third", "author": "c"}, {"text": "fourth is left out", "author": "d"},
            ],
        },
    }
    values.update(fields)
    return Signal.objects.create(workspace=incident.workspace, watch=incident.watch, kind=kind,
                                 window_start=end - timedelta(minutes=5), window_end=end,
                                 incident=incident, **values)


def destination(acme, url, language="en", **fields):
    return AlertDestination.objects.create(workspace=acme, name=f"to {language}", url=url,
                                           language=language, **fields)


def rule_for(acme, *destinations, **fields):
    rule = AlertRule.objects.create(workspace=acme, **fields)
    rule.destinations.set(destinations)
    return rule


def body_of(message) -> str:
    """The plain-text part; Apprise < 2 derives it from HTML, turning no-break spaces into
    spaces, so compare with plain spaces."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    return text.replace("\u00a0", " ").replace("\r\n", "\n")


# ---- rendered content over SMTP and HTTP ----------------------------------------------------


@pytest.mark.django_db
def test_an_english_alert_reaches_the_smtp_server_and_explains_itself(acme, incident, smtp):
    target = destination(acme, smtp.url, "en", consecutive_failures=3)
    rule_for(acme, target)
    rows = alert_for_incident(incident, make_signal(incident), NOW)

    assert [(r.status, r.attempt) for r in rows] == [(DeliveryStatus.SENT, 1)]
    [message] = smtp.messages
    assert message["Subject"] == "Severity 2 · Volume spike · Acme Box"
    # Sent as text; Apprise < 2 adds an HTML alternative, where the text must be escaped.
    html = message.get_body(preferencelist=("html",))
    if html is not None:
        assert "&lt;script&gt;" in html.get_content()
        assert "<script>" not in html.get_content()
    body = body_of(message)
    assert "Volume spike on “Acme Box”: 48 observed, 6.2 expected (confidence 99.8%)." in body
    assert "incident Open · window 14:00–14:05 (Europe/Paris)" in body
    assert "Top terms: arnaque (21), remboursement (9)" in body
    assert "Hashtags: #boycottacme" in body
    assert "Top sources: x.com (30), forum.example (5)" in body
    assert "Top authors: @bigvoice (4)" in body
    assert "Sentiment: Negative 70% · Neutral 24% · Positive 6%" in body
    assert f"Open the incident: https://veilleur.example.org/incidents/{incident.pk}/" in body
    # The hostile mention arrives as inert text on one line.
    assert "<script>alert('x')</script>" in body
    assert "\x1b" not in body and "\u202e" not in body and "\x07" not in body
    assert "@everyone" not in body and "@\u2060everyone" in body
    assert not any(line.startswith("Subject:") for line in body.splitlines())
    assert "javascript:" not in body and "https://x.com/paul/status/1" in body
    assert "third" in body and "fourth is left out" not in body
    target.refresh_from_db()
    assert target.consecutive_failures == 0 and target.last_success_at == NOW


@pytest.mark.django_db
def test_a_french_destination_gets_the_alert_in_french(acme, incident, smtp):
    rule_for(acme, destination(acme, smtp.url, "fr"))
    alert_for_incident(incident, make_signal(incident), NOW)

    [message] = smtp.messages
    assert message["Subject"].startswith("Gravité 2 · ")
    body = body_of(message)
    assert "48 observés, 6,2 attendus (confiance 99,8 %)" in body
    assert "Termes principaux : arnaque (21)" in body
    assert "Négative 70 %" in body
    assert "Exemples de mentions :" in body
    assert "« Acme m'a arnaqué <script>" in body
    assert "Ouvrir l’incident : https://veilleur.example.org/incidents/" in body
    assert "observed" not in body


@pytest.mark.django_db
def test_a_json_webhook_receives_the_title_and_message(acme, incident, webhook):
    rule_for(acme, destination(acme, f"json://127.0.0.1:{webhook.port}/hooks/veilleur"))
    alert_for_incident(incident, make_signal(incident), NOW)

    [(path, content_type, raw)] = webhook.requests
    payload = json.loads(raw)
    assert path == "/hooks/veilleur" and content_type.startswith("application/json")
    assert payload["title"] == "Severity 2 · Volume spike · Acme Box"
    assert "48 observed, 6.2 expected" in payload["message"]
    assert "<script>alert('x')</script>" in payload["message"]


@pytest.mark.django_db
def test_a_form_webhook_receives_the_french_title(acme, incident, webhook):
    rule_for(acme, destination(acme, f"form://127.0.0.1:{webhook.port}/form", "fr"))
    alert_for_incident(incident, make_signal(incident), NOW)

    [(path, _type, raw)] = webhook.requests
    fields = parse_qs(raw.decode())
    [title] = fields["title"]
    assert path == "/form" and title.startswith("Gravité 2 · ") and title.endswith(" · Acme Box")
    assert "6,2 attendus" in fields["message"][0]


@pytest.mark.django_db
def test_an_incident_opened_in_english_is_titled_in_the_destinations_language(
        acme, watch, smtp, webhook):
    # The scheduler runs in English: the stored title is English; each destination reads
    # the title composed again in its own language.
    from django.utils import translation

    from veilleur.crisis.incidents import SignalData, record_signal

    translation.activate("en")
    try:
        recorded = record_signal(watch, SignalData(
            kind="volume", window_start=NOW - timedelta(minutes=5), window_end=NOW,
            observed=48, expected=6.2, confidence=0.998, severity=2, explanation={}), NOW)
    finally:
        translation.deactivate()
    incident = recorded.incident
    assert incident.title == "Volume spike on Acme Box" and incident.kind == "volume"
    rule_for(acme, destination(acme, smtp.url, "fr"),
             destination(acme, f"json://127.0.0.1:{webhook.port}/en", "en"))
    alert_for_incident(incident, recorded.signal, NOW)

    [message] = smtp.messages
    french = body_of(message)
    assert "Incident : Pic de volume sur Acme Box" in french
    assert "Volume spike" not in french
    [(_path, _type, raw)] = webhook.requests
    assert "Incident: Volume spike on Acme Box" in json.loads(raw)["message"]

    send_digests(acme, "daily", NOW + timedelta(hours=1))  # no digest rule: nothing
    digest_rule = rule_for(acme, destination(acme, smtp.url, "fr"), digest="daily")
    [row] = send_digests(acme, "daily", NOW + timedelta(hours=1))
    assert row.rule == digest_rule
    digest = body_of(smtp.messages[-1])
    assert " · Pic de volume sur Acme Box (Acme Box)" in digest
    assert "Volume spike" not in digest


# ---- which rules fire ----------------------------------------------------------------------


@pytest.mark.django_db
def test_rules_filter_by_watch_kind_and_severity(acme, incident, webhook):
    other = Watch.objects.create(workspace=acme, name="Other", query="other")
    url = f"json://127.0.0.1:{webhook.port}/x"
    rule_for(acme, destination(acme, url), watch=other)
    rule_for(acme, destination(acme, url), kinds=["negative_shift"])
    rule_for(acme, destination(acme, url), max_severity=1)
    assert alert_for_incident(incident, make_signal(incident), NOW) == []

    rule_for(acme, destination(acme, url), watch=incident.watch, kinds=["volume"],
             max_severity=2)
    assert len(alert_for_incident(incident, make_signal(incident, minutes=5), NOW)) == 1
    assert len(webhook.requests) == 1


@pytest.mark.django_db
def test_a_destination_on_two_rules_gets_one_alert_per_signal(acme, incident, webhook):
    target = destination(acme, f"json://127.0.0.1:{webhook.port}/x")
    rule_for(acme, target)
    rule_for(acme, target, watch=incident.watch)
    alert_for_incident(incident, make_signal(incident), NOW)
    assert len(webhook.requests) == 1


# ---- suppressions ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_quiet_hours_suppress_and_severity_1_overrides_them(acme, incident, webhook):
    target = destination(acme, f"json://127.0.0.1:{webhook.port}/x")
    rule_for(acme, target, quiet_start=time(22, 0), quiet_end=time(7, 0), cooldown_minutes=0)
    night = datetime(2025, 1, 15, 22, 30, tzinfo=UTC)  # 23:30 in Paris

    [row] = alert_for_incident(incident, make_signal(incident), night)
    assert row.status == DeliveryStatus.SUPPRESSED
    assert row.reason.startswith("Quiet hours (22:00–07:00, Europe/Paris)")
    assert webhook.requests == []

    incident.severity = 1
    incident.save()
    [row] = alert_for_incident(incident, make_signal(incident, minutes=5), night)
    assert row.status == DeliveryStatus.SENT and len(webhook.requests) == 1


def test_quiet_hours_may_span_midnight_and_follow_the_local_time_zone(settings):
    settings.TIME_ZONE = "Europe/Paris"
    overnight = AlertRule(quiet_start=time(22, 0), quiet_end=time(7, 0))
    daytime = AlertRule(quiet_start=time(12, 0), quiet_end=time(14, 0))
    summer_6h30 = datetime(2025, 7, 1, 4, 30, tzinfo=UTC)  # 06:30 in Paris (UTC+2)
    assert in_quiet_hours(overnight, summer_6h30)
    assert not in_quiet_hours(overnight, datetime(2025, 7, 1, 5, 0, tzinfo=UTC))  # 07:00
    assert in_quiet_hours(daytime, datetime(2025, 1, 15, 11, 0, tzinfo=UTC))  # 12:00
    assert not in_quiet_hours(daytime, datetime(2025, 1, 15, 13, 0, tzinfo=UTC))  # 14:00
    assert not in_quiet_hours(AlertRule(), summer_6h30)


@pytest.mark.django_db
def test_the_cooldown_suppresses_a_second_alert_until_it_expires(acme, incident, webhook):
    target = destination(acme, f"json://127.0.0.1:{webhook.port}/x", "fr")
    rule_for(acme, target, cooldown_minutes=30)
    alert_for_incident(incident, make_signal(incident), NOW)

    [row] = alert_for_incident(incident, make_signal(incident, minutes=10),
                               NOW + timedelta(minutes=10))
    assert row.status == DeliveryStatus.SUPPRESSED
    assert row.reason == ("Délai entre deux alertes\u00a0: cet incident a déjà été signalé ici "
                          "à 14:05, il y a moins de 30 minutes.")
    assert len(webhook.requests) == 1

    [row] = alert_for_incident(incident, make_signal(incident, minutes=31),
                               NOW + timedelta(minutes=31))
    assert row.status == DeliveryStatus.SENT and len(webhook.requests) == 2


@pytest.mark.django_db
def test_an_escalation_lifts_the_cooldown(acme, incident, webhook):
    rule_for(acme, destination(acme, f"json://127.0.0.1:{webhook.port}/x"), cooldown_minutes=30)
    alert_for_incident(incident, make_signal(incident), NOW)
    later = NOW + timedelta(minutes=5)
    IncidentEvent.objects.create(incident=incident, at=later, kind=IncidentEvent.Kind.SEVERITY,
                                 from_value="2", to_value="1")
    incident.severity = 1
    incident.save()
    [row] = alert_for_incident(incident, make_signal(incident, minutes=5), later)
    assert row.status == DeliveryStatus.SENT and len(webhook.requests) == 2


@pytest.mark.django_db
def test_the_rate_limit_counts_alerts_to_a_destination_across_rules(acme, incident, webhook):
    target = destination(acme, f"json://127.0.0.1:{webhook.port}/x")
    rule_for(acme, target, cooldown_minutes=0, max_per_hour=2, kinds=["volume"])
    rule_for(acme, target, cooldown_minutes=0, max_per_hour=2, kinds=["vocabulary"])
    statuses = [alert_for_incident(incident, make_signal(incident, minutes=m, kind=k),
                                   NOW + timedelta(minutes=m))[0].status
                for m, k in [(0, "volume"), (5, "vocabulary"), (10, "volume")]]
    assert statuses == [DeliveryStatus.SENT, DeliveryStatus.SENT, DeliveryStatus.SUPPRESSED]
    last = AlertDelivery.objects.get(status=DeliveryStatus.SUPPRESSED)
    assert last.reason.startswith("Rate limit: 2 alerts already sent")
    # An hour after the first alert, there is room again.
    [row] = alert_for_incident(incident, make_signal(incident, minutes=61),
                               NOW + timedelta(minutes=61))
    assert row.status == DeliveryStatus.SENT and len(webhook.requests) == 3


# ---- failures -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_send_is_retried_with_one_row_per_attempt(acme, incident, caplog):
    port = free_port()
    url = f"json://alerts:s3cretPass@127.0.0.1:{port}/t0kenPath?key=abcSecret"
    target = destination(acme, url)
    rule_for(acme, target)
    with caplog.at_level(logging.DEBUG, logger="veilleur"):
        rows = alert_for_incident(incident, make_signal(incident), NOW)

    assert [(r.status, r.attempt) for r in rows] == [(DeliveryStatus.FAILED, n) for n in (1, 2, 3)]
    assert rows[-1].reason.startswith("Attempt 3 of 3 failed: ")
    target.refresh_from_db()
    assert target.enabled and target.consecutive_failures == 1
    assert target.last_error == rows[-1].reason
    stored = " ".join([target.last_error, *(r.reason for r in rows)])
    veilleur_logs = " ".join(r.getMessage() for r in caplog.records
                             if r.name.startswith("veilleur"))
    assert f"json://127.0.0.1:{port}" in veilleur_logs  # the masked URL
    for secret in ("s3cretPass", "t0kenPath", "abcSecret"):
        assert secret not in stored and secret not in veilleur_logs


@pytest.mark.django_db
def test_an_unreadable_url_disables_the_destination_at_once(acme, incident):
    target = destination(acme, "notaservice://token@somewhere/secret")
    rule_for(acme, target)
    [row] = alert_for_incident(incident, make_signal(incident), NOW)
    assert row.status == DeliveryStatus.FAILED
    target.refresh_from_db()
    assert not target.enabled
    assert target.disabled_reason.startswith("Apprise cannot read this URL (notaservice://***)")
    assert "secret" not in target.disabled_reason
    assert alert_for_incident(incident, make_signal(incident, minutes=5), NOW) == []


@pytest.mark.django_db
def test_five_failed_alerts_in_a_row_disable_the_destination(acme, incident, settings):
    settings.ALERT_ATTEMPTS = 1
    target = destination(acme, f"json://127.0.0.1:{free_port()}/x", "fr")
    rule_for(acme, target, cooldown_minutes=0, max_per_hour=0)
    for n in range(1, 6):
        alert_for_incident(incident, make_signal(incident, minutes=n), NOW + timedelta(minutes=n))
        target.refresh_from_db()
        assert target.consecutive_failures == n
        assert target.enabled == (n < 5)
    assert target.disabled_reason.startswith(
        "Désactivée après 5 alertes consécutives non remises\u00a0; dernière erreur\u00a0: "
        "La tentative 1 sur 1 a échoué")
    assert alert_for_incident(incident, make_signal(incident, minutes=9), NOW) == []


@pytest.mark.django_db
def test_a_webhook_to_a_private_address_is_refused_unless_allowed(acme, incident, webhook,
                                                                  settings):
    settings.ALLOW_PRIVATE_NETWORKS = False
    target = destination(acme, f"json://127.0.0.1:{webhook.port}/x")
    rule_for(acme, target)
    [row] = alert_for_incident(incident, make_signal(incident), NOW)
    target.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and not target.enabled
    assert "private network" in target.disabled_reason and webhook.requests == []


def test_masked_urls_keep_the_scheme_and_a_real_host_only():
    assert masked_url("mailto://user:pw@smtp.example.org:587?to=a@b.org") == \
        "mailto://smtp.example.org:587"
    assert masked_url("json://127.0.0.1:8080/hook?token=x") == "json://127.0.0.1:8080"
    assert masked_url("ntfy://ntfy.sh/secret-topic") == "ntfy://ntfy.sh"
    assert masked_url("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ") == "slack://***"
    assert masked_url("tgram://123456789:ABCdefGhIJKlmnO/-1001234") == "tgram://***"
    assert masked_url("not a url") == "***"


# ---- digests and the task -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_daily_digest_sends_one_message_per_destination_once(acme, incident, smtp):
    target = destination(acme, smtp.url, "fr")
    rule = rule_for(acme, target, digest="daily")
    rule_for(acme, target, digest="daily", kinds=["negative_shift"])  # same destination
    make_signal(incident, minutes=-30)
    make_signal(incident, minutes=-20, kind="negative_shift", observed=0.61, expected=0.2)
    make_signal(incident, minutes=-(60 * 30))  # before the period
    # A digest rule does not alert signal by signal.
    assert alert_for_incident(incident, make_signal(incident), NOW) == []

    evening = NOW + timedelta(hours=6)
    [row] = send_digests(acme, "daily", evening)
    assert row.status == DeliveryStatus.SENT and row.is_digest and row.rule == rule
    [message] = smtp.messages
    assert row.title == "Synthèse quotidienne · Acme\u00a0: 1 incident(s), 3 signal(s)"
    # (the mail header folds the no-break space into a plain space)
    assert message["Subject"].split() == row.title.split()
    body = body_of(message)
    assert "Du 14/01/2025 20:05 au 15/01/2025 20:05." in body
    assert "Gravité 2 · " in body and " · Spike around Acme Box (Acme Box)" in body
    link = f"https://veilleur.example.org/incidents/{incident.pk}/"
    assert f"Ouvert le 15/01/2025 13:55 : {link}" in body
    assert "0,6 observés, 0,2 attendus" in body
    assert body.count("observés") == 3
    assert send_digests(acme, "daily", evening + timedelta(minutes=5)) == []
    assert send_digests(acme, "weekly", evening) == []


@pytest.mark.django_db
def test_the_task_alerts_with_the_current_time(acme, incident, webhook):
    rule_for(acme, destination(acme, f"json://127.0.0.1:{webhook.port}/x"))
    signal = make_signal(incident)
    result = deliver_alerts_task.enqueue(incident.pk, signal.pk)
    assert result.return_value == {"sent": 1}
    assert len(webhook.requests) == 1
    assert deliver_alerts_task.enqueue(incident.pk, 10**9).return_value == {}
