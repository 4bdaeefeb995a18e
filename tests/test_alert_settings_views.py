"""The alert settings pages: destinations (Apprise URLs) and rules, who may change them,
secrets that never reach a page, and a test message delivered for real over loopback.

alice owns Acme, mona manages it, bob responds there, dora only views it; charlie owns
Globex.
"""

from __future__ import annotations

import json
import socket
import threading
from datetime import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from veilleur.accounts.models import Role, User
from veilleur.accounts.services import add_member
from veilleur.crisis.models import AlertDelivery, AlertDestination, AlertRule, DeliveryStatus
from veilleur.monitoring.models import Watch

pytestmark = [pytest.mark.django_db]

# Parts of a destination URL that must never appear in a page.
SECRETS = ("hunter2-PASSWORD", "tok-7f3k2SECRET", "qs-SECRET-991")


def secret_url(port: int) -> str:
    return f"json://hookuser:{SECRETS[0]}@127.0.0.1:{port}/{SECRETS[1]}?key={SECRETS[2]}"


def assert_no_secret(html: str) -> None:
    for secret in SECRETS:
        assert secret not in html


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- a loopback webhook receiver --------------------------------------------------------------


class Receiver(ThreadingHTTPServer):
    requests: list[tuple[str, bytes]]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.server.requests.append((self.path, self.rfile.read(length)))
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


# ---- data -------------------------------------------------------------------------------------


def member(workspace, username: str, role: Role) -> User:
    user = User.objects.create_user(username, f"{username}@example.org", f"{username}-pw-123")
    add_member(workspace, user, role)
    return user


@pytest.fixture
def mona(acme):
    return member(acme, "mona", Role.MANAGER)


@pytest.fixture
def dora(acme):
    return member(acme, "dora", Role.VIEWER)


@pytest.fixture
def destination(acme, webhook):
    return AlertDestination.objects.create(workspace=acme, name="Crisis hook",
                                           url=secret_url(webhook.port), language="en")


@pytest.fixture
def watch(acme):
    return Watch.objects.create(workspace=acme, name="Acme Box", query="acme")


@pytest.fixture
def rule(acme, watch, destination):
    rule = AlertRule.objects.create(workspace=acme, watch=watch, kinds=["volume"],
                                    max_severity=2, quiet_start=time(22), quiet_end=time(7))
    rule.destinations.add(destination)
    return rule


@pytest.fixture
def globex_things(globex):
    other_watch = Watch.objects.create(workspace=globex, name="Globex watch", query="globex")
    other_destination = AlertDestination.objects.create(
        workspace=globex, name="Globex hook", url="json://127.0.0.1:9/globex", language="en")
    return other_watch, other_destination


def rule_post(destinations, **fields):
    data = {"watch": "", "kinds": [], "max_severity": "3",
            "destinations": [d.pk for d in destinations], "quiet_start": "", "quiet_end": "",
            "cooldown_minutes": "30", "max_per_hour": "6", "digest": "", "enabled": "on"}
    data.update(fields)
    return data


def destination_pages(destination, rule):
    return [reverse("alerts"), reverse("alert_destination", args=[destination.pk]),
            reverse("alert_destination_edit", args=[destination.pk]),
            reverse("alert_destination_delete", args=[destination.pk]),
            reverse("alert_destination_new"), reverse("alert_rule_new"),
            reverse("alert_rule_edit", args=[rule.pk]),
            reverse("alert_rule_delete", args=[rule.pk])]


# ---- who sees and who changes -----------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "mona", "bob", "dora"])
def test_every_member_sees_destinations_and_rules_with_a_masked_url(
        request, client_of, who, destination, rule, webhook):
    user = request.getfixturevalue(who)
    html = client_of(user).get(reverse("alerts")).content.decode()
    assert "Crisis hook" in html and "Acme Box" in html
    assert f"json://127.0.0.1:{webhook.port}" in html  # masked: scheme, host and port only
    assert_no_secret(html)
    detail = client_of(user).get(reverse("alert_destination", args=[destination.pk]))
    assert detail.status_code == 200
    assert_no_secret(detail.content.decode())
    can_manage = who in {"alice", "mona"}
    test_url = reverse("alert_destination_test", args=[destination.pk])
    assert (test_url in detail.content.decode()) is can_manage
    assert (reverse("alert_destination_new") in html) is can_manage
    assert (reverse("alert_rule_edit", args=[rule.pk]) in html) is can_manage


@pytest.mark.parametrize("who", ["bob", "dora"])
def test_responders_and_viewers_change_nothing(request, client_of, who, destination, rule,
                                               watch, webhook):
    client = client_of(request.getfixturevalue(who))
    destination.enabled = False
    destination.disabled_reason = "broken"
    destination.save()
    posts = {
        reverse("alert_destination_new"): {"name": "X", "url": "json://127.0.0.1:9/x",
                                           "language": "en"},
        reverse("alert_destination_edit", args=[destination.pk]): {"name": "Renamed", "url": "",
                                                                   "language": "fr"},
        reverse("alert_destination_enabled", args=[destination.pk]): {"enabled": "1"},
        reverse("alert_destination_test", args=[destination.pk]): {},
        reverse("alert_destination_delete", args=[destination.pk]): {},
        reverse("alert_rule_new"): rule_post([destination]),
        reverse("alert_rule_edit", args=[rule.pk]): rule_post([destination], max_severity="4"),
        reverse("alert_rule_delete", args=[rule.pk]): {},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    for url in (reverse("alert_destination_new"), reverse("alert_rule_new"),
                reverse("alert_destination_edit", args=[destination.pk]),
                reverse("alert_rule_edit", args=[rule.pk])):
        assert client.get(url).status_code == 403, url
    destination.refresh_from_db()
    rule.refresh_from_db()
    assert (destination.name, destination.enabled, destination.disabled_reason) == (
        "Crisis hook", False, "broken")
    assert rule.max_severity == 2 and AlertRule.objects.count() == 1
    assert AlertDestination.objects.count() == 1
    assert not AlertDelivery.objects.exists() and webhook.requests == []


def test_another_workspaces_destinations_and_rules_are_not_found(client_of, charlie,
                                                                 destination, rule, webhook):
    client = client_of(charlie)
    for url in destination_pages(destination, rule)[1:]:
        if "/new/" in url:
            continue
        assert client.get(url).status_code == 404, url
    for url in (reverse("alert_destination_enabled", args=[destination.pk]),
                reverse("alert_destination_test", args=[destination.pk]),
                reverse("alert_destination_delete", args=[destination.pk]),
                reverse("alert_rule_delete", args=[rule.pk])):
        assert client.post(url).status_code == 404, url
    html = client.get(reverse("alerts")).content.decode()
    assert "Crisis hook" not in html and "Acme Box" not in html
    assert AlertDestination.objects.filter(pk=destination.pk).exists()
    assert AlertRule.objects.filter(pk=rule.pk).exists() and webhook.requests == []


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(reverse("alerts"))
    assert response.status_code == 302 and "login" in response["Location"]


# ---- destinations -----------------------------------------------------------------------------


def test_an_owner_adds_a_destination(client_of, alice, webhook):
    url = secret_url(webhook.port)
    response = client_of(alice).post(reverse("alert_destination_new"),
                                     {"name": "Crisis hook", "url": url, "language": "fr"})
    destination = AlertDestination.objects.get(name="Crisis hook")
    assert response.status_code == 302
    assert response["Location"] == reverse("alert_destination", args=[destination.pk])
    assert destination.workspace.slug == "acme"
    assert (destination.url, destination.language, destination.enabled) == (url, "fr", True)


def test_an_unreadable_apprise_url_is_refused_with_a_message(client_of, alice):
    response = client_of(alice).post(
        reverse("alert_destination_new"),
        {"name": "Broken", "url": f"nosuchservice://{SECRETS[1]}/x", "language": "en"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Apprise cannot read this URL" in html
    assert_no_secret(html)  # the refused URL is not written back into the form either
    assert not AlertDestination.objects.exists()


def test_a_slack_url_without_its_tokens_is_refused(client_of, alice):
    response = client_of(alice).post(reverse("alert_destination_new"),
                                     {"name": "Slack", "url": "slack://onlyone",
                                      "language": "en"})
    assert "Apprise cannot read this URL" in response.content.decode()
    assert not AlertDestination.objects.exists()


def test_two_urls_in_one_destination_are_refused(client_of, alice):
    response = client_of(alice).post(
        reverse("alert_destination_new"),
        {"name": "Two", "url": "json://127.0.0.1:9/a, json://127.0.0.1:9/b", "language": "en"})
    assert "Enter one URL only" in response.content.decode()
    assert not AlertDestination.objects.exists()


def test_a_new_destination_needs_a_url_and_a_unique_name(client_of, alice, destination):
    response = client_of(alice).post(reverse("alert_destination_new"),
                                     {"name": "Crisis hook", "url": "", "language": "en"})
    html = response.content.decode()
    assert "Enter the Apprise URL" in html
    assert "A destination with this name already exists." in html
    assert AlertDestination.objects.count() == 1


def test_no_page_ever_shows_the_url(client_of, alice, destination, rule):
    client = client_of(alice)
    for page in destination_pages(destination, rule):
        response = client.get(page)
        assert response.status_code == 200, page
        assert_no_secret(response.content.decode())
    # Nor the form redisplayed with an error, with the stored or a newly typed URL.
    response = client.post(reverse("alert_destination_edit", args=[destination.pk]),
                           {"name": "", "url": secret_url(1), "language": "en"})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert_no_secret(response.content.decode())


def test_editing_with_a_blank_url_keeps_the_stored_one(client_of, alice, destination):
    stored = destination.url
    response = client_of(alice).post(reverse("alert_destination_edit", args=[destination.pk]),
                                     {"name": "Renamed hook", "url": "", "language": "fr"})
    assert response.status_code == 302
    destination.refresh_from_db()
    assert (destination.name, destination.language, destination.url) == (
        "Renamed hook", "fr", stored)


def test_editing_with_a_new_url_replaces_it_and_keeps_a_disabled_destination_disabled(
        client_of, alice, destination):
    destination.enabled = False
    destination.disabled_reason = "Apprise cannot read this URL"
    destination.save()
    response = client_of(alice).post(reverse("alert_destination_edit", args=[destination.pk]),
                                     {"name": "Crisis hook", "url": "ntfys://ntfy.example.org/t",
                                      "language": "en"}, follow=True)
    destination.refresh_from_db()
    assert destination.url == "ntfys://ntfy.example.org/t" and not destination.enabled
    assert "still disabled" in response.content.decode()


def test_a_bad_url_on_edit_is_refused_and_the_stored_one_kept(client_of, alice, destination):
    stored = destination.url
    response = client_of(alice).post(reverse("alert_destination_edit", args=[destination.pk]),
                                     {"name": "Crisis hook", "url": "garbage",
                                      "language": "en"})
    assert "Apprise cannot read this URL" in response.content.decode()
    destination.refresh_from_db()
    assert destination.url == stored


def test_the_disabled_reason_is_shown_prominently_and_escaped(client_of, bob, destination):
    destination.enabled = False
    destination.disabled_reason = "Disabled after 5 alerts <script>alert(1)</script>"
    destination.last_error = "Attempt 3 of 3 failed: <img src=x onerror=alert(2)>"
    destination.save()
    for page in (reverse("alerts"), reverse("alert_destination", args=[destination.pk])):
        html = client_of(bob).get(page).content.decode()
        assert "disabled-reason" in html
        assert "Disabled after 5 alerts &lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert(1)" not in html and "<img src=x" not in html


def test_enabling_again_clears_the_reason_and_the_failure_count(client_of, mona, destination):
    destination.enabled = False
    destination.disabled_reason = "Disabled after 5 alerts in a row failed"
    destination.consecutive_failures = 5
    destination.save()
    response = client_of(mona).post(
        reverse("alert_destination_enabled", args=[destination.pk]), {"enabled": "1"})
    assert response.status_code == 302
    destination.refresh_from_db()
    assert destination.enabled and destination.disabled_reason == ""
    assert destination.consecutive_failures == 0


def test_a_manager_disables_a_destination_and_the_page_says_who(client_of, mona, destination):
    client_of(mona).post(reverse("alert_destination_enabled", args=[destination.pk]),
                         {"enabled": "0"})
    destination.refresh_from_db()
    assert not destination.enabled and destination.disabled_reason == "Disabled by mona."


def test_the_test_button_delivers_for_real_and_logs_it(client_of, alice, destination, webhook):
    response = client_of(alice).post(reverse("alert_destination_test", args=[destination.pk]),
                                     follow=True)
    html = response.content.decode()
    assert "Test message delivered to “Crisis hook”." in html
    assert len(webhook.requests) == 1
    path, raw = webhook.requests[0]
    assert path.startswith(f"/{SECRETS[1]}")
    payload = json.loads(raw)
    assert payload["title"] == "Veilleur: test message"
    assert "alice" in payload["message"] and "“Acme”" in payload["message"]
    delivery = AlertDelivery.objects.get(destination=destination)
    assert (delivery.status, delivery.attempt, delivery.title) == (
        DeliveryStatus.SENT, 1, "Veilleur: test message")
    assert delivery.rule is None and delivery.incident is None
    destination.refresh_from_db()
    assert destination.last_success_at is not None
    assert f'id="delivery-{delivery.pk}"' in html  # the log on the destination's page
    assert_no_secret(html)


def test_a_failed_test_says_why_without_the_secrets(client_of, alice, acme, settings):
    settings.ALERT_ATTEMPTS = 2
    port = free_port()  # nothing listens there
    closed = AlertDestination.objects.create(workspace=acme, name="Closed", url=secret_url(port))
    response = client_of(alice).post(reverse("alert_destination_test", args=[closed.pk]),
                                     follow=True)
    html = response.content.decode()
    assert "The test message to “Closed” failed" in html
    assert_no_secret(html)
    rows = AlertDelivery.objects.filter(destination=closed).order_by("attempt")
    # A test tries once and answers at once; it does not count towards disabling.
    assert [(r.status, r.attempt) for r in rows] == [(DeliveryStatus.FAILED, 1)]
    closed.refresh_from_db()
    assert closed.consecutive_failures == 0 and closed.enabled


def test_the_destination_page_lists_the_latest_fifty_deliveries(client_of, dora, destination):
    AlertDelivery.objects.bulk_create([
        AlertDelivery(destination=destination, status=DeliveryStatus.SUPPRESSED,
                      reason=f"Cooldown {i}", title=f"Alert <b>{i}</b>") for i in range(55)])
    html = client_of(dora).get(reverse("alert_destination", args=[destination.pk])).content.decode()
    assert html.count('id="delivery-') == 50
    assert "Alert &lt;b&gt;" in html and "<b>" not in html.split("deliveries-table")[1]
    assert "Suppressed" in html and "Cooldown" in html


def test_an_owner_deletes_a_destination_after_confirming(client_of, alice, destination, rule):
    url = reverse("alert_destination_delete", args=[destination.pk])
    confirm = client_of(alice).get(url).content.decode()
    assert "Delete the destination “Crisis hook”?" in confirm
    assert AlertDestination.objects.filter(pk=destination.pk).exists()
    assert client_of(alice).post(url).status_code == 302
    assert not AlertDestination.objects.filter(pk=destination.pk).exists()
    assert AlertRule.objects.filter(pk=rule.pk).exists()


# ---- rules ------------------------------------------------------------------------------------


def test_a_manager_creates_a_rule(client_of, mona, watch, destination):
    response = client_of(mona).post(reverse("alert_rule_new"), rule_post(
        [destination], watch=str(watch.pk), kinds=["volume", "high_reach"], max_severity="1",
        quiet_start="22:00", quiet_end="07:00", cooldown_minutes="15", max_per_hour="3",
        digest="daily"))
    assert response.status_code == 302 and response["Location"] == reverse("alerts")
    rule = AlertRule.objects.get()
    assert rule.workspace == watch.workspace and rule.watch == watch
    assert rule.kinds == ["volume", "high_reach"] and rule.max_severity == 1
    assert list(rule.destinations.all()) == [destination]
    assert (rule.quiet_start, rule.quiet_end) == (time(22), time(7))
    assert (rule.cooldown_minutes, rule.max_per_hour, rule.digest, rule.enabled) == (
        15, 3, "daily", True)


def test_a_rule_for_every_watch_and_kind_without_a_digest(client_of, alice, destination):
    client_of(alice).post(reverse("alert_rule_new"), rule_post([destination], enabled=""))
    rule = AlertRule.objects.get()
    assert rule.watch is None and rule.kinds == [] and rule.digest == ""
    assert not rule.enabled
    html = client_of(alice).get(reverse("alerts")).content.decode()
    assert "Every watch" in html and "every kind" in html


def test_editing_a_rule(client_of, alice, rule, destination, acme):
    other = AlertDestination.objects.create(workspace=acme, name="Mail", url="mailto://x.org")
    client_of(alice).post(reverse("alert_rule_edit", args=[rule.pk]),
                          rule_post([destination, other], max_severity="4", kinds=["vocabulary"]))
    rule.refresh_from_db()
    assert rule.watch is None and rule.max_severity == 4 and rule.kinds == ["vocabulary"]
    assert set(rule.destinations.all()) == {destination, other}
    assert (rule.quiet_start, rule.quiet_end) == (None, None)


def test_a_rule_cannot_use_another_workspaces_watch_or_destination(
        client_of, alice, destination, globex_things):
    other_watch, other_destination = globex_things
    response = client_of(alice).post(reverse("alert_rule_new"), rule_post(
        [destination, other_destination], watch=str(other_watch.pk)))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("Select a valid choice") == 2
    assert "Globex hook" not in html and "Globex watch" not in html
    assert not AlertRule.objects.exists()


def test_a_rule_needs_a_destination_both_quiet_hours_and_sane_numbers(client_of, alice,
                                                                      destination):
    response = client_of(alice).post(reverse("alert_rule_new"), rule_post(
        [], quiet_start="22:00", cooldown_minutes="-1", max_severity="9", kinds=["nope"]))
    html = response.content.decode()
    assert "This field is required." in html  # destinations
    assert "Give both ends of the quiet hours, or neither." in html
    assert html.count("Select a valid choice") == 2  # severity 9, kind "nope"
    assert "greater than or equal to 0" in html
    assert not AlertRule.objects.exists()


def test_the_rule_form_offers_only_this_workspaces_watches_and_destinations(
        client_of, alice, watch, destination, globex_things):
    html = client_of(alice).get(reverse("alert_rule_new")).content.decode()
    assert "Acme Box" in html and "Crisis hook" in html
    assert "Globex watch" not in html and "Globex hook" not in html


def test_rule_lists_escape_watch_and_destination_names(client_of, bob, acme, rule, watch,
                                                       destination):
    watch.name = "<i>Box</i>"
    watch.save()
    destination.name = "<u>hook</u>"
    destination.save()
    html = client_of(bob).get(reverse("alerts")).content.decode()
    assert "&lt;i&gt;Box&lt;/i&gt;" in html and "&lt;u&gt;hook&lt;/u&gt;" in html
    assert "<i>Box" not in html and "<u>hook" not in html


def test_an_owner_deletes_a_rule_and_its_log_stays(client_of, alice, rule, destination):
    AlertDelivery.objects.create(destination=destination, rule=rule,
                                 status=DeliveryStatus.SENT, title="x")
    url = reverse("alert_rule_delete", args=[rule.pk])
    assert client_of(alice).get(url).status_code == 200
    assert client_of(alice).post(url).status_code == 302
    assert not AlertRule.objects.exists()
    assert AlertDelivery.objects.get().rule is None
