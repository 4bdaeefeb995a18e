"""The source pages: add (kind list, form, test now), detail (health, activity), edit, poll now.

A test connector (``tokenfeed``) reads a JSON list from a loopback server with a
secret bearer token, so secrets, field errors and "test now" can be checked against
real HTTP. The RSS tests use the real RSS connector on a feed of our own
(tests/fixtures/sources/ui/).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from django.urls import reverse
from django.utils import timezone
from werkzeug import Request, Response

from tests.fakes import make_mention
from veilleur.connectors import registry
from veilleur.connectors.base import Batch, ConfigField, ConfigInvalid, RawItem
from veilleur.connectors.fields import bounded_int, clean_fields
from veilleur.connectors.http import HttpClient
from veilleur.connectors.secrets import is_sealed, open_config
from veilleur.monitoring.models import Health, Mention, Source, SourceEvent, Watch
from veilleur.monitoring.pipeline import poll_source
from veilleur.monitoring.sources import create_source

FIXTURES = Path(__file__).parent / "fixtures" / "sources" / "ui"
TOKEN = "tok-7f3a-very-secret"
HTMX = {"HTTP_HX_REQUEST": "true"}


class TokenConnector:
    """A JSON feed behind a bearer token: every kind of field, one secret."""

    kind = "tokenfeed"
    platform = "tokennet"
    label = "Token feed"
    description = "A JSON feed read with a token (tests only)."
    min_interval = 120
    fields = (
        ConfigField("url", "Address", type="url", required=True, help="Where the feed is."),
        ConfigField("token", "Token", type="secret", required=True, help="The API token."),
        ConfigField("limit", "Limit", type="int", default=20, help="Items per fetch, 1 to 100."),
        ConfigField("tags", "Tags", type="lines", help="One tag per line."),
        ConfigField("mode", "Mode", type="choice", choices=(("all", "All"), ("top", "Top")),
                    default="all"),
        ConfigField("replies", "Replies", type="bool", default=True, help="Include replies."),
    )
    fetches: ClassVar[int] = 0

    def validate_config(self, config):
        clean = clean_fields(self.fields, config)
        bounded_int(clean, "limit", 1, 100)
        if "nope" in clean.get("tags", []):
            raise ConfigInvalid("tags: 'nope' is not a tag this feed knows")
        return clean

    def fetch(self, config, cursor, now):
        type(self).fetches += 1
        with HttpClient() as http:
            response = http.get(config["url"],
                                headers={"Authorization": f"Bearer {config['token']}"})
        items = [
            RawItem(external_id=row["id"], text=row["text"], title=row.get("title", ""),
                    url=row.get("url", ""), author_handle=row.get("author", ""),
                    published_at=now - timedelta(minutes=row.get("age", 1)), lang_hint="fr")
            for row in response.json()[: config["limit"]]
        ]
        return Batch(items=items, cursor=len(items))


ROWS = [
    {"id": "t1", "title": "Panne chez Fibrelune", "text": "Plus de connexion depuis ce matin.",
     "url": "https://forum.example/t/1", "author": "@claire", "age": 5},
    {"id": "t2", "text": "Fibrelune rembourse enfin les abonnés.", "author": "@marc", "age": 9},
]


@pytest.fixture
def tokenfeed(monkeypatch):
    monkeypatch.setitem(registry.KINDS, "tokenfeed", f"{__name__}:TokenConnector")
    TokenConnector.fetches = 0
    return TokenConnector


@pytest.fixture
def feed_url(httpserver):
    """The token feed on loopback: answers only with the right token."""

    def handler(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Response("no", status=401)
        return Response(json.dumps(ROWS), content_type="application/json")

    httpserver.expect_request("/feed.json").respond_with_handler(handler)
    return httpserver.url_for("/feed.json")


def body(response) -> str:
    return response.content.decode()


def form_data(url: str, **overrides) -> dict[str, str]:
    data = {"name": "Forum Fibrelune", "config_url": url, "config_token": TOKEN,
            "config_limit": "20", "config_tags": "", "config_mode": "all",
            "config_replies": "on", "watch": "", "poll_interval": "300"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def field_block(page: str, name: str) -> str:
    """The HTML of one field's block (label, input, help, errors)."""
    match = re.search(rf'<div class="field field-{name}[ "].*?(?=<div class="field |</fieldset>|'
                      r'<div class="actions)', page, re.S)
    assert match, f"no field {name} in the page"
    return match.group(0)


def assert_no_secret(page: str, source: Source | None = None) -> None:
    assert TOKEN not in page
    if source is not None:
        assert source.config["token"] not in page  # not even encrypted


# ---- adding ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_kind_list_offers_web_kinds_only(client_of, alice, tokenfeed):
    page = body(client_of(alice).get(reverse("source_add_pick")))
    assert 'id="kind-tokenfeed"' in page and "Token feed" in page
    assert "A JSON feed read with a token" in page
    assert 'id="kind-file"' not in page and 'id="kind-replay"' not in page
    assert reverse("source_add", args=["tokenfeed"]) in page


@pytest.mark.django_db
def test_the_form_is_built_from_the_connector_fields(client_of, alice, tokenfeed):
    page = body(client_of(alice).get(reverse("source_add", args=["tokenfeed"])))
    assert 'type="url" name="config_url"' in page
    assert 'type="password" name="config_token"' in page and 'autocomplete="new-password"' in page
    assert '<textarea name="config_tags"' in page
    assert '<option value="top">Top</option>' in page
    assert 'type="checkbox" name="config_replies"' in page and "checked" in field_block(
        page, "config_replies")
    assert "The API token." in field_block(page, "config_token")  # help under the field
    interval = field_block(page, "poll_interval")
    assert 'min="120"' in interval and 'max="86400"' in interval  # the connector's minimum
    assert 'value="300"' in interval


@pytest.mark.django_db
def test_a_manager_adds_a_source_through_the_form(client_of, alice, acme, tokenfeed, feed_url):
    watch = Watch.objects.create(workspace=acme, name="Fibrelune", query="fibrelune")
    client = client_of(alice)
    response = client.post(reverse("source_add", args=["tokenfeed"]), form_data(
        feed_url, config_tags="panne\nremboursement", watch=str(watch.pk), config_mode="top",
        config_replies=None))
    source = Source.objects.get(name="Forum Fibrelune")
    assert response.status_code == 302
    assert response["Location"] == reverse("source_detail", args=[source.pk])
    assert source.kind == "tokenfeed" and source.watch == watch and source.poll_interval == 300
    assert is_sealed(source.config["token"])  # encrypted at rest
    assert open_config(TokenConnector.fields, source.config) == {
        "url": feed_url, "token": TOKEN, "limit": 20, "tags": ["panne", "remboursement"],
        "mode": "top", "replies": False}
    assert source.next_poll_at <= timezone.now()  # polled at the scheduler's next pass
    assert TokenConnector.fetches == 0  # saving does not fetch
    assert_no_secret(body(client.get(response["Location"])), source)


@pytest.mark.django_db
def test_test_now_shows_what_would_be_ingested_and_stores_nothing(client_of, alice, tokenfeed,
                                                                 feed_url):
    client = client_of(alice)
    response = client.post(reverse("source_add_test", args=["tokenfeed"]), form_data(feed_url),
                           **HTMX)
    page = body(response)
    assert response.status_code == 200 and "<html" not in page  # the panel only
    assert "The source answered." in page and "2 items fetched" in page
    assert "2 would be ingested" in page
    assert "Panne chez Fibrelune" in page and "Plus de connexion depuis ce matin." in page
    assert "@claire" in page and 'href="https://forum.example/t/1"' in page
    assert "French" in page  # the language the item would get
    assert_no_secret(page)
    assert not Source.objects.exists() and not Mention.objects.exists()


@pytest.mark.django_db
def test_test_now_says_what_is_wrong_in_plain_words(client_of, alice, tokenfeed, feed_url):
    client = client_of(alice)
    page = body(client.post(reverse("source_add_test", args=["tokenfeed"]),
                            form_data(feed_url, config_token="wrong-token"), **HTMX))
    assert "The source could not be read." in page
    assert "refused access (HTTP 401)" in page and "check the credentials" in page
    assert "will not go away by itself" in page  # permanent
    assert "wrong-token" not in page
    page = body(client.post(reverse("source_add_test", args=["tokenfeed"]),
                            form_data("ftp://nowhere"), **HTMX))
    assert "Nothing was fetched: some settings need a correction first." in page
    assert "Address: expected an http:// or https:// address" in page
    assert not Source.objects.exists()


@pytest.mark.django_db
def test_without_javascript_test_now_returns_the_form_with_the_result(client_of, alice,
                                                                     tokenfeed, feed_url):
    client = client_of(alice)
    response = client.post(reverse("source_add_test", args=["tokenfeed"]), form_data(feed_url))
    page = body(response)
    assert response.status_code == 200 and "<html" in page
    assert "Panne chez Fibrelune" in page  # the result
    assert 'value="Forum Fibrelune"' in page  # and what was typed
    assert_no_secret(page)
    # The typed token is kept on the server for the next try: saving works without it.
    carry = re.search(r'name="carry" value="([^"]+)"', page).group(1)
    assert 'placeholder="unchanged"' in field_block(page, "config_token")
    response = client.post(reverse("source_add", args=["tokenfeed"]),
                           form_data(feed_url, config_token="", carry=carry))
    assert response.status_code == 302
    source = Source.objects.get()
    assert open_config(TokenConnector.fields, source.config)["token"] == TOKEN
    assert not Mention.objects.exists()


@pytest.mark.django_db
def test_a_carried_secret_belongs_to_its_form_only(client_of, alice, tokenfeed, feed_url):
    client = client_of(alice)
    page = body(client.post(reverse("source_add", args=["tokenfeed"]),
                            form_data(feed_url, config_limit="500")))
    carry = re.search(r'name="carry" value="([^"]+)"', page).group(1)
    other = create_source(alice.memberships.get().workspace, "tokenfeed", "Other",
                          {"url": feed_url, "token": "other-token"})
    # The same token on another source's edit form gives nothing.
    page = body(client.post(reverse("source_edit", args=[other.pk]), form_data(
        feed_url, name="Other", config_token="", carry=carry, config_limit="500")))
    assert "expected a whole number from 1 to 100" in page
    other.refresh_from_db()
    assert open_config(TokenConnector.fields, other.config)["token"] == "other-token"


@pytest.mark.django_db
def test_field_errors_are_attached_to_their_field_and_nothing_typed_is_lost(
        client_of, alice, tokenfeed, feed_url):
    client = client_of(alice)
    url = reverse("source_add", args=["tokenfeed"])
    page = body(client.post(url, form_data(feed_url, config_limit="500",
                                           config_tags="panne\nnope")))
    limit = field_block(page, "config_limit")
    assert "has-error" in limit and "expected a whole number from 1 to 100" in limit
    assert "Some settings need a correction" in page
    assert 'value="Forum Fibrelune"' in page and "panne\nnope" in page and feed_url in page
    assert_no_secret(page)
    page = body(client.post(url, form_data(feed_url, config_tags="panne\nnope")))
    assert "&#x27;nope&#x27; is not a tag this feed knows" in field_block(page, "config_tags")
    page = body(client.post(url, form_data("not an address")))
    assert "expected an http:// or https:// address" in field_block(page, "config_url")
    page = body(client.post(url, form_data(feed_url, config_token="", poll_interval="30")))
    assert "This field is required." in field_block(page, "config_token")
    assert "greater than or equal to 120" in field_block(page, "poll_interval")
    page = body(client.post(url, form_data(feed_url, config_limit="many")))
    assert "Enter a whole number." in field_block(page, "config_limit")
    assert not Source.objects.exists()


@pytest.mark.django_db
def test_a_name_already_used_is_refused(client_of, alice, acme, tokenfeed, feed_url):
    create_source(acme, "tokenfeed", "Forum Fibrelune", {"url": feed_url, "token": TOKEN})
    page = body(client_of(alice).post(reverse("source_add", args=["tokenfeed"]),
                                      form_data(feed_url)))
    assert "A source with this name already exists." in field_block(page, "name")
    assert Source.objects.count() == 1


@pytest.mark.django_db
def test_shell_only_and_unknown_kinds_cannot_be_added(client_of, alice):
    client = client_of(alice)
    for kind in ("file", "replay"):
        response = client.get(reverse("source_add", args=[kind]))
        assert response.status_code == 403 and "Only from the command line" in body(response)
        response = client.post(reverse("source_add", args=[kind]),
                               {"name": "etc", "config_path": "/etc/passwd",
                                "poll_interval": "300"})
        assert response.status_code == 403
        response = client.post(reverse("source_add_test", args=[kind]),
                               {"name": "etc", "config_path": "/etc/passwd"})
        assert response.status_code == 403
    assert client.get(reverse("source_add", args=["nope"])).status_code == 404
    assert not Source.objects.exists()


@pytest.mark.django_db
def test_a_responder_can_read_but_not_change_sources(client_of, bob, acme, tokenfeed, feed_url):
    source = create_source(acme, "tokenfeed", "Forum", {"url": feed_url, "token": TOKEN})
    client = client_of(bob)
    assert "Add a source" not in body(client.get(reverse("sources")))
    page = body(client.get(reverse("source_detail", args=[source.pk])))
    assert "Only managers and owners" in page and "Test now" not in page
    for name, method in [("source_add_pick", "get"), ("source_edit", "get"),
                         ("source_edit", "post"), ("source_test", "post"),
                         ("source_poll_now", "post")]:
        args = [] if name == "source_add_pick" else [source.pk]
        response = getattr(client, method)(reverse(name, args=args), form_data(feed_url))
        assert response.status_code == 403, name
    assert client.get(reverse("source_add", args=["tokenfeed"])).status_code == 403
    response = client.post(reverse("source_add_test", args=["tokenfeed"]), form_data(feed_url))
    assert response.status_code == 403
    assert TokenConnector.fetches == 0 and Source.objects.count() == 1


@pytest.mark.django_db
def test_an_outsider_does_not_find_another_workspaces_source(client_of, charlie, acme, tokenfeed,
                                                            feed_url):
    source = create_source(acme, "tokenfeed", "Forum", {"url": feed_url, "token": TOKEN})
    client = client_of(charlie)
    for name in ("source_detail", "source_edit"):
        assert client.get(reverse(name, args=[source.pk])).status_code == 404
    for name in ("source_test", "source_poll_now"):
        assert client.post(reverse(name, args=[source.pk])).status_code == 404
    assert TokenConnector.fetches == 0


# ---- editing -----------------------------------------------------------------------


@pytest.mark.django_db
def test_editing_keeps_a_secret_left_blank(client_of, alice, acme, tokenfeed, feed_url):
    source = create_source(acme, "tokenfeed", "Forum", {"url": feed_url, "token": TOKEN,
                                                        "tags": ["panne"]})
    client = client_of(alice)
    page = body(client.get(reverse("source_edit", args=[source.pk])))
    token_field = field_block(page, "config_token")
    assert 'placeholder="unchanged"' in token_field and "required" not in token_field
    assert ">\npanne</textarea>" in page  # lines shown one per line
    assert_no_secret(page, source)
    response = client.post(reverse("source_edit", args=[source.pk]), form_data(
        feed_url, name="Forum renamed", config_token="", config_limit="50", poll_interval="600"))
    assert response.status_code == 302
    source.refresh_from_db()
    config = open_config(TokenConnector.fields, source.config)
    assert config["token"] == TOKEN and config["limit"] == 50
    assert source.name == "Forum renamed" and source.poll_interval == 600
    # A new value replaces it.
    client.post(reverse("source_edit", args=[source.pk]),
                form_data(feed_url, name="Forum renamed", config_token="new-token"))
    source.refresh_from_db()
    assert open_config(TokenConnector.fields, source.config)["token"] == "new-token"


@pytest.mark.django_db
def test_test_now_from_the_edit_form_uses_the_stored_secret(client_of, alice, acme, tokenfeed,
                                                            feed_url):
    source = create_source(acme, "tokenfeed", "Forum", {"url": feed_url, "token": TOKEN})
    client = client_of(alice)
    page = body(client.post(reverse("source_test", args=[source.pk]),
                            form_data(feed_url, name="Forum", config_token="", config_limit="1"),
                            **HTMX))
    assert "1 item fetched" in page and "Panne chez Fibrelune" in page
    assert "Plus de connexion" in page and "rembourse" not in page  # the form's limit
    source.refresh_from_db()
    assert open_config(TokenConnector.fields, source.config)["limit"] == 20  # not saved
    assert source.cursor is None and not Mention.objects.exists()


@pytest.mark.django_db
def test_without_javascript_test_now_from_the_edit_form_keeps_the_edits(client_of, alice, acme,
                                                                        tokenfeed, feed_url):
    source = create_source(acme, "tokenfeed", "Forum", {"url": feed_url, "token": TOKEN})
    page = body(client_of(alice).post(reverse("source_test", args=[source.pk]), form_data(
        feed_url, name="Forum (renamed)", config_token="", config_limit="1")))
    assert "<html" in page and "Edit source" in page
    assert 'value="Forum (renamed)"' in page and "1 item fetched" in page
    assert_no_secret(page, source)
    source.refresh_from_db()
    assert source.name == "Forum" and not Mention.objects.exists()


@pytest.mark.django_db
def test_test_now_on_the_saved_config_marks_what_is_already_stored(client_of, alice, acme,
                                                                  tokenfeed, feed_url):
    source = create_source(acme, "tokenfeed", "Forum", {"url": feed_url, "token": TOKEN})
    make_mention(source, "déjà là", external_id="t1")
    client = client_of(alice)
    page = body(client.post(reverse("source_test", args=[source.pk]), **HTMX))
    assert "2 items fetched" in page and "1 would be ingested" in page
    assert "1 already stored" in page and page.count("is-stored") == 1
    # Without JavaScript: the source's page with the result.
    page = body(client.post(reverse("source_test", args=[source.pk])))
    assert "<html" in page and "Mentions stored per day" in page and "1 would be ingested" in page
    assert Mention.objects.count() == 1
    source.refresh_from_db()
    assert source.cursor is None and source.last_polled_at is None


# ---- detail ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_detail_page_shows_health_activity_history_and_masked_settings(
        client_of, alice, acme, tokenfeed, feed_url):
    source = create_source(acme, "tokenfeed", "Forum", {"url": feed_url, "token": TOKEN,
                                                        "tags": ["panne", "débit"]})
    now = timezone.now()
    for n in range(3):
        make_mention(source, f"today {n}", fetched_at=now)
    make_mention(source, "two days ago", fetched_at=now - timedelta(days=2))
    make_mention(source, "too old for the chart", fetched_at=now - timedelta(days=20))
    Source.objects.filter(pk=source.pk).update(
        health=Health.FAILING, consecutive_failures=3, last_success_at=now - timedelta(hours=5),
        last_error="forum.example/feed.json had a server error (HTTP 503); will retry",
        next_poll_at=now + timedelta(minutes=20))
    SourceEvent.objects.create(source=source, from_health=Health.OK, to_health=Health.DEGRADED,
                               error="forum.example/feed.json did not answer within 3 s")
    page = body(client_of(alice).get(reverse("source_detail", args=[source.pk])))
    assert 'class="badge health-failing" id="source-health">Failing' in page
    assert "3 polls in a row failed." in page
    assert "had a server error (HTTP 503); will retry" in page
    assert re.search(r"\(5.hours ago\)", page)
    assert re.search(r"\(in (19|20).minutes\)", page)  # next poll
    assert "did not answer within 3 s" in page and "Veilleur" in page  # the history
    today = timezone.localdate()
    rows = dict(re.findall(r'<tr class="chart-row" data-day="([\d-]+)">.*?<td>(\d+)</td>', page))
    assert len(rows) == 14
    assert rows[today.isoformat()] == "3"
    assert rows[(today - timedelta(days=2)).isoformat()] == "1"
    assert sum(map(int, rows.values())) == 4  # the 20-day-old one is outside
    assert "4 in the last 14 days" in page
    assert 'id="mention-count">5<' in page
    assert "panne, débit" in page and "set (hidden)" in page
    assert_no_secret(page, source)


@pytest.mark.django_db
def test_poll_now_makes_the_source_due(client_of, alice, acme, tokenfeed, feed_url):
    source = create_source(acme, "tokenfeed", "Forum", {"url": feed_url, "token": TOKEN})
    later = timezone.now() + timedelta(hours=1)
    Source.objects.filter(pk=source.pk).update(next_poll_at=later)
    client = client_of(alice)
    response = client.post(reverse("source_poll_now", args=[source.pk]))
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.next_poll_at <= timezone.now()
    assert "due now" in body(client.get(reverse("source_detail", args=[source.pk])))
    Source.objects.filter(pk=source.pk).update(health=Health.DISABLED, next_poll_at=later)
    client.post(reverse("source_poll_now", args=[source.pk]))
    source.refresh_from_db()
    assert source.next_poll_at == later
    assert client.get(reverse("source_poll_now", args=[source.pk])).status_code == 405


@pytest.mark.django_db
def test_disabling_from_the_detail_page_comes_back_to_it(client_of, alice, acme, tokenfeed,
                                                         feed_url):
    source = create_source(acme, "tokenfeed", "Forum", {"url": feed_url, "token": TOKEN})
    client = client_of(alice)
    response = client.post(reverse("source_enabled", args=[source.pk]),
                           {"enabled": "0", "next": "detail"})
    assert response["Location"] == reverse("source_detail", args=[source.pk])
    page = body(client.get(response["Location"]))
    assert "alice disabled this source" in page and "not scheduled" in page


@pytest.mark.django_db
def test_the_page_of_a_kind_this_build_lacks_still_opens(client_of, alice, acme):
    source = Source.objects.create(workspace=acme, name="Old", kind="gone",
                                   config={"token": "enc:v1:xyz"})
    page = body(client_of(alice).get(reverse("source_detail", args=[source.pk])))
    assert "settings cannot be shown" in page and "enc:v1:xyz" not in page
    assert client_of(alice).get(reverse("source_edit", args=[source.pk])).status_code == 404


# ---- dashboard banner and languages ------------------------------------------------


@pytest.mark.django_db
def test_the_dashboard_points_at_sources_needing_attention(client_of, alice, acme, globex,
                                                          django_assert_max_num_queries):
    ok = Source.objects.create(workspace=acme, name="Healthy", kind="rss")
    client = client_of(alice)
    assert 'id="source-banner"' not in body(client.get(reverse("mentions")))
    failing = Source.objects.create(workspace=acme, name="Broken feed", kind="rss",
                                    health=Health.FAILING)
    Source.objects.create(workspace=acme, name="Slow feed", kind="rss", health=Health.DEGRADED)
    Source.objects.create(workspace=globex, name="Not ours", kind="rss", health=Health.FAILING)
    page = body(client.get(reverse("mentions")))
    banner = re.search(r'<div class="source-banner".*?</div>', page, re.S).group(0)
    assert "2 sources need attention" in banner
    assert reverse("source_detail", args=[failing.pk]) in banner
    assert banner.index("Broken feed") < banner.index("Slow feed")  # worst first
    assert "Healthy" not in banner and "Not ours" not in banner
    assert reverse("source_detail", args=[ok.pk]) not in banner


@pytest.mark.django_db
def test_the_banner_costs_one_query(client_of, alice, acme, django_assert_num_queries):
    from django.template import Context, Template
    from django.test import RequestFactory

    Source.objects.create(workspace=acme, name="Broken", kind="rss", health=Health.FAILING)
    request = RequestFactory().get("/")
    request.workspace = acme
    template = Template('{% include "monitoring/_source_attention.html" %}')
    with django_assert_num_queries(1):
        html = template.render(Context({"request": request}))
    assert "1 source needs attention" in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_source_pages_render_in_both_languages(client_of, alice, acme, tokenfeed, feed_url,
                                                   language):
    alice.language = language
    alice.save()
    source = create_source(acme, "tokenfeed", "Forum", {"url": feed_url, "token": TOKEN})
    Source.objects.filter(pk=source.pk).update(health=Health.FAILING)
    client = client_of(alice)
    words = {"en": ["Failing", "Last success", "Health", "Disable"],
             "fr": ["En échec", "Dernier succès", "État", "Désactiver"]}[language]
    detail = body(client.get(reverse("source_detail", args=[source.pk])))
    assert f'<html lang="{language}">' in detail
    for word in words:
        assert word in detail, word
    for name, args in [("source_add_pick", []), ("source_add", ["tokenfeed"]),
                       ("source_edit", [source.pk]), ("sources", [])]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200 and f'<html lang="{language}">' in body(response)
    edit = body(client.get(reverse("source_edit", args=[source.pk])))
    assert {"en": "Cancel", "fr": "Annuler"}[language] in edit
    assert {"en": "Save", "fr": "Enregistrer"}[language] in edit


# ---- RSS, end to end ---------------------------------------------------------------

FEED_TITLES = ["Coupure de la box depuis ce matin à Nantes", "Le service client a enfin répondu",
               "Débit montant divisé par deux ?"]


@pytest.fixture
def rss_url(httpserver):
    httpserver.expect_request("/forum.rss").respond_with_data(
        (FIXTURES / "fibrelune.xml").read_bytes(), content_type="application/rss+xml")
    return httpserver.url_for("/forum.rss")


@pytest.mark.django_db
def test_an_rss_feed_added_in_the_ui_arrives_as_mentions_within_one_poll(client_of, alice, acme,
                                                                        rss_url):
    watch = Watch.objects.create(workspace=acme, name="Fibrelune", query="fibrelune")
    client = client_of(alice)
    assert 'id="kind-rss"' in body(client.get(reverse("source_add_pick")))
    form = {"name": "Forum Fibrelune", "config_url": rss_url, "config_lang": "",
            "config_max_items": "50", "watch": "", "poll_interval": "300"}
    page = body(client.post(reverse("source_add_test", args=["rss"]), form, **HTMX))
    assert "3 items fetched" in page and "3 would be ingested" in page
    for title in FEED_TITLES:
        assert title in page
    assert "claire_44" in page and "Plus d&#x27;internet ni de télé depuis 6 h" in page
    assert not Source.objects.exists() and not Mention.objects.exists()

    response = client.post(reverse("source_add", args=["rss"]), form)
    assert response.status_code == 302
    source = Source.objects.get(name="Forum Fibrelune")
    report = poll_source(source.pk)
    assert (report.stored, report.error) == (3, "")
    mentions = body(client.get(reverse("mentions")))
    for title in FEED_TITLES:
        assert title in mentions
    assert set(Mention.objects.values_list("watches__name", flat=True)) == {watch.name}
    detail = body(client.get(reverse("source_detail", args=[source.pk])))
    assert 'id="mention-count">3<' in detail and "The last poll worked." in detail
    assert f'data-day="{timezone.localdate().isoformat()}"><th scope="row">' in detail
    assert "3 in the last 14 days" in detail


@pytest.mark.django_db
def test_an_rss_address_that_is_no_feed_is_explained(client_of, alice, httpserver):
    httpserver.expect_request("/page").respond_with_data(
        "<html><body>Bienvenue</body></html>", content_type="text/html")
    page = body(client_of(alice).post(reverse("source_add_test", args=["rss"]), {
        "name": "Oops", "config_url": httpserver.url_for("/page"), "config_max_items": "50",
        "poll_interval": "300"}, **HTMX))
    assert "The source could not be read." in page and "RSS or Atom" in page


# ---- webhook: the signing secret is shown once to its creator --------------------------


@pytest.mark.django_db
def test_a_webhook_source_shows_its_address_and_its_secret_once(client_of, alice, bob):
    client = client_of(alice)
    response = client.post(reverse("source_add", args=["webhook"]), {
        "name": "Partner CRM", "config_secret": "", "config_path_token": "",
        "poll_interval": "300"})
    assert response.status_code == 302
    source = Source.objects.get(name="Partner CRM")
    secret = open_config(registry.get_connector("webhook").fields, source.config)["secret"]
    token = source.config["path_token"]
    first = body(client.get(response["Location"]))
    assert f"/hooks/{source.pk}/{token}" in first
    assert f'<code class="webhook-secret">{secret}</code>' in first
    again = body(client.get(response["Location"]))
    assert f"/hooks/{source.pk}/{token}" in again and secret not in again  # once only
    assert source.config["secret"] not in again
    # Another member never sees it, and cannot renew it.
    assert secret not in body(client_of(bob).get(response["Location"]))
    assert client_of(bob).post(reverse("source_new_secret", args=[source.pk])).status_code == 403
    client = client_of(alice)
    response = client.post(reverse("source_new_secret", args=[source.pk]))
    source.refresh_from_db()
    renewed = open_config(registry.get_connector("webhook").fields, source.config)["secret"]
    assert renewed != secret
    page = body(client.get(response["Location"]))
    assert renewed in page and secret not in page
    assert renewed not in body(client.get(response["Location"]))


@pytest.mark.django_db
def test_only_webhook_sources_have_a_secret_to_renew(client_of, alice, acme, tokenfeed, feed_url):
    source = create_source(acme, "tokenfeed", "Forum", {"url": feed_url, "token": TOKEN})
    response = client_of(alice).post(reverse("source_new_secret", args=[source.pk]))
    assert response.status_code == 404


def test_the_detail_page_says_what_a_degraded_platform_hides(client_of, alice, acme):
    # Bluesky logged out: the newest 100 posts per poll only; logged in: full results.
    logged_out = create_source(acme, "bluesky", "Bluesky", {"query": "fibrelune"})
    page = body(client_of(alice).get(reverse("source_detail", args=[logged_out.pk])))
    assert 'id="source-coverage"' in page and "only the newest 100 posts" in page
    logged_in = create_source(acme, "bluesky", "Bluesky logged in", {
        "query": "fibrelune", "handle": "veille.bsky.social",
        "app_password": "abcd-efgh-ijkl-mnop"})
    page = body(client_of(alice).get(reverse("source_detail", args=[logged_in.pk])))
    assert "only the newest 100 posts" not in page and "five pages per poll" in page
    # A kind without platform limits says nothing.
    rss = create_source(acme, "rss", "Feed", {"url": "https://example.org/feed.xml"})
    page = body(client_of(alice).get(reverse("source_detail", args=[rss.pk])))
    assert 'id="source-coverage"' not in page
