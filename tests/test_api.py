"""The REST API: routes, workspace isolation, roles, pagination, filters, secrets, OpenAPI."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openapi_spec_validator import validate

from tests.fakes import NOW, FakeConnector, install_fake_connector, make_mention, raw_item
from veilleur.accounts.models import ApiToken, Role
from veilleur.connectors.secrets import is_secret_name, mask_config
from veilleur.monitoring.models import Health, Source, SourceEvent, Story, Watch
from veilleur.monitoring.pipeline import poll_source

pytestmark = [pytest.mark.django_db]

SECRET_CONFIG = {
    "name": "feed",
    "api_key": "s3cr3t-api-key",
    "auth": {"accessToken": "s3cr3t-token", "user": "acme-bot"},
    "client_secret": "s3cr3t-client",
    "keywords": ["nuvia", "fibre"],
}


@pytest.fixture
def world(acme, globex, alice, bob, charlie, monkeypatch):
    """Acme (alice owner, bob responder) and Globex (charlie) with their own data."""
    install_fake_connector(monkeypatch)
    nuvia = Watch.objects.create(workspace=acme, name="Nuvia", query="nuvia", languages=["fr"])
    quiet = Watch.objects.create(workspace=acme, name="Quiet", query="zzz", is_active=False)
    feed = Source.objects.create(workspace=acme, name="Feed", kind="fake", config=SECRET_CONFIG)
    reviews = Source.objects.create(
        workspace=acme, name="Reviews", kind="fake", config={"name": "reviews"}
    )
    m_old = make_mention(
        feed, "Nuvia fibre en panne encore", lang="fr", sentiment="negative",
        sentiment_score=-0.8, published_at=NOW - timedelta(hours=3), watches=[nuvia], reach=500,
        url="https://example.org/p/1", title="Panne", extra={"rating": 1},
    )
    m_mid = make_mention(
        feed, "Love the new NUVIA box", lang="en", sentiment="positive",
        sentiment_score=0.9, published_at=NOW - timedelta(hours=2), watches=[nuvia],
    )
    m_new = make_mention(
        reviews, "Service client injoignable", lang="fr", sentiment="negative",
        published_at=NOW - timedelta(hours=1), author=None,
    )
    g_watch = Watch.objects.create(workspace=globex, name="Globex", query="globex")
    g_source = Source.objects.create(
        workspace=globex, name="Globex feed", kind="fake", config={"name": "g"}
    )
    g_mention = make_mention(g_source, "Globex is great", watches=[g_watch])
    # Members and counts: tests/test_api_stories.py; here, a route to keep isolated.
    story = Story.objects.create(workspace=acme, first_seen_at=NOW, last_seen_at=NOW)
    return SimpleNamespace(
        story=story,
        head=SimpleNamespace(pk=1),  # a head version number, for the route templates
        # Incident and signal ids for the route templates (tests/test_incident_api.py has
        # real ones): these tests are answered before any id is looked up.
        incident=SimpleNamespace(pk=1), signal=SimpleNamespace(pk=1),
        acme=acme, globex=globex, nuvia=nuvia, quiet=quiet, feed=feed, reviews=reviews,
        m_old=m_old, m_mid=m_mid, m_new=m_new,
        g_watch=g_watch, g_source=g_source, g_mention=g_mention,
        acme_token=ApiToken.issue(acme, "acme-read", role=Role.VIEWER)[1],
        globex_token=ApiToken.issue(globex, "globex-owner", role=Role.OWNER)[1],
    )


def api_client(raw_token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw_token}"})


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


# --- mentions ---------------------------------------------------------------------------


def test_mentions_are_listed_newest_first_with_every_field(world):
    response = api_client(world.acme_token).get("/api/mentions")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and body["next"] is None and body["previous"] is None
    assert ids(response) == [world.m_new.pk, world.m_mid.pk, world.m_old.pk]
    old = body["items"][2]
    assert old == {
        "id": world.m_old.pk,
        "source_id": world.feed.pk,
        "external_id": world.m_old.external_id,
        "url": "https://example.org/p/1",
        "author": {
            "handle": "@someone", "display_name": "Some One", "followers": 1200,
            "verified": True, "platform": "fakenet",
        },
        "title": "Panne",
        "text": "Nuvia fibre en panne encore",
        "lang": "fr",
        "sentiment": "negative",
        "sentiment_score": -0.8,
        "sentiment_scores": {},  # set by enrichment or a correction (test_sentiment_api.py)
        "sentiment_model": "",
        "corrected": False,
        "published_at": "2026-03-01T09:00:00Z",
        "fetched_at": "2026-03-01T12:00:00Z",
        "reach": 500,
        "watch_ids": [world.nuvia.pk],
        "extra": {"rating": 1},
        "highlight": None,  # only a search (q=...) highlights (tests/test_search.py)
        "copies": 1,
        "story": None,  # stories: tests/test_api_stories.py
    }
    assert body["items"][0]["author"] is None


def test_one_mention_is_returned_by_id(world):
    response = api_client(world.acme_token).get(f"/api/mentions/{world.m_mid.pk}")
    assert response.status_code == 200
    assert response.json()["text"] == "Love the new NUVIA box"


@pytest.mark.parametrize("mention_id", ["999999", "99999999999999999999"])
def test_an_unknown_mention_id_is_404(world, mention_id):
    response = api_client(world.acme_token).get(f"/api/mentions/{mention_id}")
    assert response.status_code == 404
    assert response.json() == {"detail": "mention not found"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lang=fr", ["m_new", "m_old"]),
        ("lang=FR", ["m_new", "m_old"]),
        ("sentiment=negative", ["m_new", "m_old"]),
        ("sentiment=positive", ["m_mid"]),
        ("q=nuvia", ["m_mid", "m_old"]),
        ("q=PANNE", ["m_old"]),  # the title counts too, in any case
        ("since=2026-03-01T09:30:00Z", ["m_new", "m_mid"]),
        ("until=2026-03-01T10:00:00Z", ["m_old"]),  # until is exclusive
        ("since=2026-03-01T10:00:00Z&until=2026-03-01T11:00:00Z", ["m_mid"]),  # since inclusive
        ("since=2026-03-01T10:00:00", ["m_new", "m_mid"]),  # naive means UTC
        ("lang=fr&sentiment=negative&q=service", ["m_new"]),
    ],
)
def test_mentions_can_be_filtered(world, query, expected):
    response = api_client(world.acme_token).get(f"/api/mentions?{query}")
    assert response.status_code == 200, response.content
    assert ids(response) == [getattr(world, name).pk for name in expected]
    assert response.json()["count"] == len(expected)


def test_mentions_can_be_filtered_by_watch_and_source(world):
    client = api_client(world.acme_token)
    assert ids(client.get(f"/api/mentions?watch={world.nuvia.pk}")) == [
        world.m_mid.pk, world.m_old.pk
    ]
    assert ids(client.get(f"/api/mentions?source={world.reviews.pk}")) == [world.m_new.pk]
    assert ids(client.get(f"/api/mentions?watch={world.quiet.pk}")) == []


def test_filtering_by_another_workspace_s_watch_or_source_finds_nothing(world):
    client = api_client(world.acme_token)
    assert client.get(f"/api/mentions?watch={world.g_watch.pk}").json()["count"] == 0
    assert client.get(f"/api/mentions?source={world.g_source.pk}").json()["count"] == 0


def test_after_id_walks_forward_oldest_first_for_polling_clients(world):
    client = api_client(world.acme_token)
    first = sorted([world.m_old.pk, world.m_mid.pk, world.m_new.pk])
    assert ids(client.get(f"/api/mentions?after_id={first[0]}")) == first[1:]
    assert ids(client.get(f"/api/mentions?after_id={first[-1]}")) == []


@pytest.mark.parametrize(
    "query",
    ["sentiment=angry", "since=yesterday", "watch=abc", "limit=0", "limit=201", "offset=-1",
     "after_id=-5", "q=" + "x" * 201, "watch=0", "source=99999999999999999999"],
)
def test_invalid_filters_are_422(world, query):
    response = api_client(world.acme_token).get(f"/api/mentions?{query}")
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


def test_a_hostile_mention_text_comes_back_verbatim_as_json(world):
    hostile = (
        '</script><script>alert("x")</script> <img src=x onerror=alert(1)> '
        "&amp; & ' \" \\ {{ 7*7 }} \u2028\u2029 émoji 😀 {% debug %}"
    )
    mention = make_mention(world.feed, hostile, title="<b>title</b>", extra={"html": "<i>"})
    response = api_client(world.acme_token).get(f"/api/mentions/{mention.pk}")
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["text"] == hostile
    assert body["title"] == "<b>title</b>"
    assert body["extra"] == {"html": "<i>"}
    # JSON escaping only: nothing was turned into HTML entities on the way out.
    assert b"&lt;" not in response.content and b"&#" not in response.content


@pytest.mark.storage
def test_mentions_stored_by_the_pipeline_are_served(world):
    FakeConnector.queue("reviews", [
        raw_item("r-1", "Nuvia <script>alert(1)</script> refund!", author_handle="@angry",
                 author_followers=42, lang_hint="en"),
    ])
    report = poll_source(world.reviews.pk, NOW)
    assert report.stored == 1, report
    response = api_client(world.acme_token).get(f"/api/mentions?source={world.reviews.pk}")
    item = next(i for i in response.json()["items"] if i["external_id"] == "r-1")
    assert item["text"] == "Nuvia <script>alert(1)</script> refund!"
    assert item["author"]["handle"] == "@angry" and item["author"]["followers"] == 42
    assert item["author"]["platform"] == "fakenet"


@pytest.mark.storage
@pytest.mark.parametrize("path", ["/api/mentions", "/api/sources", "/api/watches"])
def test_lists_take_the_same_number_of_queries_whatever_their_length(world, path):
    client = api_client(world.acme_token)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    before = queries()
    for n in range(6):
        watch = Watch.objects.create(workspace=world.acme, name=f"W{n}", query=f"w{n}")
        source = Source.objects.create(
            workspace=world.acme, name=f"S{n}", kind="fake", config={"name": f"s{n}"}
        )
        make_mention(source, f"more {n}", watches=[watch, world.nuvia])
    assert queries() == before


# --- pagination -------------------------------------------------------------------------


@pytest.mark.storage
def test_lists_are_paginated_with_count_next_and_previous(world):
    for n in range(7):
        make_mention(world.reviews, f"extra {n}", lang="en",
                     published_at=NOW - timedelta(minutes=n))
    client = api_client(world.acme_token)
    everything = ids(client.get("/api/mentions?lang=en&limit=200"))
    assert len(everything) == 8

    seen: list[int] = []
    url: str | None = "/api/mentions?lang=en&limit=3"
    pages = 0
    while url:
        body = client.get(url).json()
        assert body["count"] == 8 and body["limit"] == 3
        assert len(body["items"]) <= 3
        seen += [item["id"] for item in body["items"]]
        if pages:
            assert body["previous"] is not None
        url = body["next"]
        if url:
            # The next link keeps the filters and moves the offset.
            query = parse_qs(urlsplit(url).query)
            assert query["lang"] == ["en"] and query["offset"] == [str(len(seen))]
        pages += 1
    assert pages == 3
    assert seen == everything

    last = client.get("/api/mentions?lang=en&limit=3&offset=6").json()
    assert last["next"] is None
    assert parse_qs(urlsplit(last["previous"]).query)["offset"] == ["3"]
    beyond = client.get("/api/mentions?lang=en&limit=3&offset=50").json()
    assert beyond["items"] == [] and beyond["count"] == 8 and beyond["next"] is None


def test_every_list_uses_the_same_envelope(world):
    client = api_client(world.acme_token)
    for path in ("/api/mentions", "/api/sources", "/api/watches"):
        body = client.get(f"{path}?limit=1").json()
        assert set(body) == {"count", "limit", "offset", "next", "previous", "items"}, path
        assert body["limit"] == 1 and len(body["items"]) == 1
        assert body["next"] is not None


# --- sources ----------------------------------------------------------------------------


def test_sources_are_listed_with_health_counts_and_masked_secrets(world):
    response = api_client(world.acme_token).get("/api/sources")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    feed, reviews = body["items"]
    assert (feed["name"], reviews["name"]) == ("Feed", "Reviews")
    assert feed["mention_count"] == 2 and reviews["mention_count"] == 1
    assert feed["kind"] == "fake" and feed["health"] == "ok" and feed["poll_interval"] == 300
    for key in ("last_error", "last_polled_at", "last_success_at", "next_poll_at", "watch_id"):
        assert key in feed
    assert feed["config"] == {
        "name": "feed",
        "api_key": "***",
        "auth": {"accessToken": "***", "user": "acme-bot"},
        "client_secret": "***",
        "keywords": ["nuvia", "fibre"],
    }
    assert b"s3cr3t" not in response.content


def test_one_source_is_returned_with_masked_secrets(world):
    response = api_client(world.acme_token).get(f"/api/sources/{world.feed.pk}")
    assert response.status_code == 200
    assert response.json()["config"]["api_key"] == "***"
    assert b"s3cr3t" not in response.content
    # Masking is for output only: the stored config keeps the real secret.
    world.feed.refresh_from_db()
    assert world.feed.config["api_key"] == "s3cr3t-api-key"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("api_key", True), ("apiKey", True), ("APIKEY", True), ("key", True),
        ("private_keys", True), ("client_secret", True), ("password", True),
        ("db_passwd", True), ("accessToken", True), ("refresh_token", True),
        ("credentials", True), ("Secret-Name", True),
        ("keywords", False), ("name", False), ("url", False), ("user", False),
    ],
)
def test_secret_names_are_recognised(name, secret):
    assert is_secret_name(name) is secret


def test_masking_walks_nested_lists_and_objects():
    config = {"accounts": [{"handle": "@a", "token": "x"}], "headers": {"X-Api-Key": "y"}}
    assert mask_config((), config) == {
        "accounts": [{"handle": "@a", "token": "***"}],
        "headers": {"X-Api-Key": "***"},
    }


def manager_client(world) -> Client:
    return api_client(ApiToken.issue(world.acme, "ops", role=Role.MANAGER)[1])


def test_a_manager_creates_a_source_validated_by_its_connector(world):
    response = manager_client(world).post(
        "/api/sources",
        {"name": "New feed", "kind": "fake", "config": {"name": "new", "token": "abc"},
         "watch": world.nuvia.pk, "poll_interval": 120},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "New feed" and body["mention_count"] == 0
    assert body["watch_id"] == world.nuvia.pk and body["poll_interval"] == 120
    assert body["config"] == {"name": "new", "token": "***"}
    source = Source.objects.get(pk=body["id"])
    assert source.workspace == world.acme and source.config["token"] == "abc"


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"kind": "nope", "config": {"name": "x"}}, "kind", "unknown source kind 'nope'"),
        ({"kind": "fake", "config": {}}, "config", "invalid configuration: name:"),
        ({"kind": "fake", "config": {"name": "  "}}, "config", "invalid configuration"),
    ],
)
def test_an_invalid_source_is_422_with_a_clear_message(world, payload, field, message):
    response = manager_client(world).post(
        "/api/sources", {"name": "Bad", **payload}, content_type="application/json"
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "payload", field]
    assert error["msg"].startswith(message)
    assert not Source.objects.filter(name="Bad").exists()


def test_the_unknown_kind_message_lists_the_known_kinds(world):
    response = manager_client(world).post(
        "/api/sources", {"name": "Bad", "kind": "nope"}, content_type="application/json"
    )
    assert "fake" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize("kind", ["file", "replay"])
def test_kinds_that_read_server_files_cannot_be_added_through_the_api(world, kind):
    response = manager_client(world).post(
        "/api/sources",
        {"name": "Bad", "kind": kind, "config": {"path": "/etc/passwd"}},
        content_type="application/json",
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][-1] == "kind" and "command line" in error["msg"]
    assert not Source.objects.filter(name="Bad").exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "fake", "config": {"name": "x"}},  # no name
        {"name": "", "kind": "fake", "config": {"name": "x"}},
        {"name": "x" * 121, "kind": "fake", "config": {"name": "x"}},
        {"name": "Ok", "kind": "fake", "config": {"name": "x"}, "poll_interval": 5},
        {"name": "Ok", "kind": "fake", "config": ["not", "an", "object"]},
    ],
)
def test_malformed_source_payloads_are_422(world, payload):
    response = manager_client(world).post("/api/sources", payload,
                                          content_type="application/json")
    assert response.status_code == 422


def test_a_watch_of_another_workspace_cannot_be_attached(world):
    response = manager_client(world).post(
        "/api/sources",
        {"name": "Sneaky", "kind": "fake", "config": {"name": "s"}, "watch": world.g_watch.pk},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "watch"]


def test_a_duplicate_source_name_is_409(world):
    response = manager_client(world).post(
        "/api/sources", {"name": "Feed", "kind": "fake", "config": {"name": "f"}},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert "Feed" in response.json()["detail"]


def test_the_same_source_name_is_fine_in_another_workspace(world):
    response = api_client(world.globex_token).post(
        "/api/sources", {"name": "Feed", "kind": "fake", "config": {"name": "f"}},
        content_type="application/json",
    )
    assert response.status_code == 201


def test_a_manager_disables_and_enables_a_source_and_it_is_audited(world):
    client = manager_client(world)
    response = client.post(f"/api/sources/{world.feed.pk}/disable")
    assert response.status_code == 200
    assert response.json()["health"] == "disabled"
    assert response.json()["mention_count"] == 2
    again = client.post(f"/api/sources/{world.feed.pk}/disable")
    assert again.status_code == 200 and again.json()["health"] == "disabled"

    response = client.post(f"/api/sources/{world.feed.pk}/enable")
    assert response.status_code == 200 and response.json()["health"] == "ok"
    assert client.post(f"/api/sources/{world.feed.pk}/enable").json()["health"] == "ok"

    events = list(SourceEvent.objects.filter(source=world.feed).order_by("at", "id"))
    # Idempotent repeats record nothing: one disable, one enable.
    assert [(e.from_health, e.to_health) for e in events] == [
        (Health.OK, Health.DISABLED), (Health.DISABLED, Health.OK)
    ]
    assert {e.actor for e in events} == {"token:ops"}


# --- roles with sessions: alice (owner) may, bob (responder) may not ---------------------


def test_bob_cannot_create_disable_or_enable_sources(world, client_of, bob):
    client = client_of(bob)
    create = client.post(
        "/api/sources?workspace=acme", {"name": "Bob's", "kind": "fake", "config": {"name": "b"}},
        content_type="application/json",
    )
    assert create.status_code == 403
    assert not Source.objects.filter(name="Bob's").exists()
    assert client.post(f"/api/sources/{world.feed.pk}/disable?workspace=acme").status_code == 403
    world.feed.refresh_from_db()
    assert world.feed.health == Health.OK
    Source.objects.filter(pk=world.reviews.pk).update(health=Health.DISABLED)
    assert client.post(f"/api/sources/{world.reviews.pk}/enable?workspace=acme").status_code == 403
    assert Source.objects.get(pk=world.reviews.pk).health == Health.DISABLED
    # Reading is fine for a responder.
    assert client.get("/api/sources?workspace=acme").status_code == 200


def test_alice_can_create_disable_and_enable_sources(world, client_of, alice):
    client = client_of(alice)
    create = client.post(
        "/api/sources?workspace=acme", {"name": "Alice's", "kind": "fake",
                                        "config": {"name": "a"}},
        content_type="application/json",
    )
    assert create.status_code == 201
    assert Source.objects.get(name="Alice's").workspace == world.acme
    disabled = client.post(f"/api/sources/{world.feed.pk}/disable?workspace=acme")
    assert disabled.status_code == 200 and disabled.json()["health"] == "disabled"
    assert SourceEvent.objects.get(source=world.feed).actor == "alice"
    enabled = client.post(f"/api/sources/{world.feed.pk}/enable?workspace=acme")
    assert enabled.status_code == 200 and enabled.json()["health"] == "ok"


# --- watches ----------------------------------------------------------------------------


def test_watches_are_listed_with_mention_counts(world):
    body = api_client(world.acme_token).get("/api/watches").json()
    assert body["count"] == 2
    assert body["items"] == [
        {"id": world.nuvia.pk, "name": "Nuvia", "query": "nuvia", "languages": ["fr"],
         "is_active": True, "mention_count": 2},
        {"id": world.quiet.pk, "name": "Quiet", "query": "zzz", "languages": [],
         "is_active": False, "mention_count": 0},
    ]


def test_one_watch_is_returned_by_id(world):
    response = api_client(world.acme_token).get(f"/api/watches/{world.nuvia.pk}")
    assert response.status_code == 200 and response.json()["mention_count"] == 2


# --- isolation: charlie (Globex) sees nothing of Acme, whichever way he comes in ---------


@pytest.fixture(params=["globex-token", "globex-session"])
def charlie_client(request, world, charlie):
    if request.param == "globex-token":
        return api_client(world.globex_token), ""
    client = Client()
    client.force_login(charlie)
    return client, "?workspace=globex"


@pytest.mark.parametrize("path", ["/api/mentions", "/api/sources", "/api/watches"])
def test_an_outsider_lists_only_his_own_workspace(world, charlie_client, path):
    client, suffix = charlie_client
    response = client.get(path + suffix)
    assert response.status_code == 200
    got = set(ids(response))
    acme_ids = {
        "/api/mentions": {world.m_old.pk, world.m_mid.pk, world.m_new.pk},
        "/api/sources": {world.feed.pk, world.reviews.pk},
        "/api/watches": {world.nuvia.pk, world.quiet.pk},
    }[path]
    globex_ids = {
        "/api/mentions": {world.g_mention.pk},
        "/api/sources": {world.g_source.pk},
        "/api/watches": {world.g_watch.pk},
    }[path]
    assert got == globex_ids
    assert not got & acme_ids
    assert b"Nuvia" not in response.content and b"s3cr3t" not in response.content


ACME_OBJECT_ROUTES = [
    ("get", "/api/mentions/{m_old}"),
    ("get", "/api/sources/{feed}"),
    ("get", "/api/watches/{nuvia}"),
    ("get", "/api/stories/{story}"),
    ("post", "/api/sources/{feed}/disable"),
    ("post", "/api/sources/{reviews}/enable"),
]


def _fill(world, template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(getattr(world, m.group(1)).pk), template)


@pytest.mark.parametrize(("method", "template"), ACME_OBJECT_ROUTES)
def test_an_outsider_gets_404_on_acme_ids(world, charlie_client, method, template):
    client, suffix = charlie_client
    Source.objects.filter(pk=world.reviews.pk).update(health=Health.DISABLED)
    response = getattr(client, method)(_fill(world, template) + suffix)
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]
    # Nothing changed in Acme.
    assert Source.objects.get(pk=world.feed.pk).health == Health.OK
    assert Source.objects.get(pk=world.reviews.pk).health == Health.DISABLED
    assert not SourceEvent.objects.filter(source__workspace=world.acme).exists()


def test_an_outsider_creating_a_source_creates_it_in_his_own_workspace(world, charlie_client):
    client, suffix = charlie_client
    response = client.post(
        "/api/sources" + suffix, {"name": "Charlie's", "kind": "fake", "config": {"name": "c"}},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert Source.objects.get(name="Charlie's").workspace == world.globex
    assert Source.objects.for_workspace(world.acme).count() == 2


# Sentiment routes: their isolation and roles are tested in tests/test_sentiment_api.py
# (a correction needs a body, so the body-less 404 test above does not fit it).
SENTIMENT_ROUTES = [
    ("post", "/api/mentions/{m_old}/sentiment"),
    ("get", "/api/sentiment/heads"),
    ("post", "/api/sentiment/heads/train"),
    ("post", "/api/sentiment/heads/{head}/activate"),
    ("post", "/api/sentiment/heads/deactivate"),
]
# Incident routes: their isolation, roles and bodies are tested in tests/test_incident_api.py.
INCIDENT_ROUTES = [
    ("get", "/api/incidents"),
    ("get", "/api/incidents/{incident}"),
    ("post", "/api/incidents/{incident}/transition"),
    ("post", "/api/incidents/{incident}/notes"),
    ("post", "/api/signals/{signal}/false-alarm"),
]
ALL_ROUTES = [("get", "/api/mentions"), ("get", "/api/sources"), ("get", "/api/watches"),
              ("post", "/api/sources"), *ACME_OBJECT_ROUTES, *SENTIMENT_ROUTES,
              *INCIDENT_ROUTES]


@pytest.mark.parametrize(("method", "template"), ALL_ROUTES)
def test_an_outsider_session_naming_acme_gets_404_on_every_route(
    world, client_of, charlie, method, template
):
    client = client_of(charlie)
    kwargs = {"content_type": "application/json"} if method == "post" else {}
    response = getattr(client, method)(_fill(world, template) + "?workspace=acme", **kwargs)
    assert response.status_code == 404
    assert response.json() == {"detail": "workspace not found"}


@pytest.mark.parametrize(("method", "template"), ALL_ROUTES)
def test_every_route_needs_authentication(world, method, template):
    response = getattr(Client(), method)(_fill(world, template))
    assert response.status_code == 401
    assert "detail" in response.json()


def test_every_route_in_the_openapi_document_is_covered_by_the_isolation_tests(client):
    """A new route must be added to ALL_ROUTES (and so to the isolation tests)."""
    paths = json.loads(client.get("/api/openapi.json").content)["paths"]
    documented = {
        (method, re.sub(r"\{\w+\}", "{id}", path))
        for path, operations in paths.items()
        for method in operations
    }
    covered = {(method, re.sub(r"\{\w+\}", "{id}", path)) for method, path in ALL_ROUTES}
    assert documented == covered


# --- OpenAPI and docs ---------------------------------------------------------------------


def test_the_openapi_document_is_valid_and_lists_the_routes(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    validate(spec)
    assert set(spec["paths"]) == {
        "/api/mentions", "/api/mentions/{mention_id}", "/api/sources",
        "/api/sources/{source_id}", "/api/sources/{source_id}/disable",
        "/api/sources/{source_id}/enable", "/api/watches", "/api/watches/{watch_id}",
        "/api/stories/{story_id}", "/api/mentions/{mention_id}/sentiment",
        "/api/sentiment/heads", "/api/sentiment/heads/train",
        "/api/sentiment/heads/{version}/activate", "/api/sentiment/heads/deactivate",
        "/api/incidents", "/api/incidents/{incident_id}",
        "/api/incidents/{incident_id}/transition", "/api/incidents/{incident_id}/notes",
        "/api/signals/{signal_id}/false-alarm",
    }
    assert set(spec["paths"]["/api/sources"]) == {"get", "post"}
    schemes = spec["components"]["securitySchemes"]
    assert schemes["BearerToken"]["type"] == "http"
    assert schemes["BearerToken"]["scheme"] == "bearer"
    assert schemes["WorkspaceSession"]["in"] == "query"
    assert schemes["WorkspaceSession"]["name"] == "workspace"
    params = {p["name"] for p in spec["paths"]["/api/mentions"]["get"]["parameters"]}
    assert {"watch", "source", "lang", "sentiment", "since", "until", "q", "after_id",
            "limit", "offset"} <= params


def test_the_docs_page_works_offline(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    # Every script and stylesheet comes from this server, none from a CDN.
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for asset in assets:
        assert not re.match(r"^(https?:)?//", asset), asset
        assert client.get(asset).status_code == 200, asset

