"""The Hacker News connector against recorded Algolia answers served on loopback."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request
from werkzeug import Response as WerkzeugResponse

from tests.connectors.peers import fixture_bytes, raw_peer, truncated_response
from veilleur.connectors.base import ConfigInvalid, SourceError
from veilleur.connectors.hackernews import HackerNewsConnector
from veilleur.connectors.registry import get_connector

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 12, 15, tzinfo=UTC)
PATH = "/api/v1/search_by_date"
CONFIG = {"query": "acme", "tags": "all"}


@pytest.fixture
def hn(httpserver: HTTPServer, settings) -> HTTPServer:
    settings.CONNECTOR_ENDPOINTS = {"hackernews": httpserver.url_for("/").rstrip("/")}
    return httpserver


def _serve(server: HTTPServer, name: str) -> None:
    server.expect_request(PATH).respond_with_data(
        fixture_bytes("hackernews", name), content_type="application/json")


def _fetch(cursor=None, now=NOW, config=CONFIG):
    return HackerNewsConnector().fetch(config, cursor, now)


def _fails(cursor=None) -> SourceError:
    with pytest.raises(SourceError) as caught:
        _fetch(cursor)
    return caught.value


# --- mapping and cursor ---------------------------------------------------------------


def test_the_registry_knows_the_kind():
    connector = get_connector("hackernews")
    assert isinstance(connector, HackerNewsConnector)
    assert connector.kind == connector.platform == "hackernews"


def test_a_recorded_page_maps_every_field(hn):
    _serve(hn, "search_by_date.json")
    batch = _fetch()
    request = hn.log[0][0]
    day_before = int((NOW - timedelta(days=1)).timestamp())
    assert request.args["query"] == "acme"
    assert request.args["tags"] == "(story,comment)"
    assert request.args["numericFilters"] == f"created_at_i>={day_before}"
    assert request.args["hitsPerPage"] == "100" and request.args["page"] == "0"

    items = {item.external_id: item for item in batch.items}
    assert list(items) == ["46012345", "46012351", "46012020", "46011700", "46011900"]

    comment = items["46012345"]
    assert comment.text == (
        "We moved off Acme Cloud last spring for exactly this reason. Support took nine "
        "days to answer a P1 ticket.\nThe new pricing page doesn't even mention the "
        "egress fees.")
    assert comment.title == ""
    assert comment.url == "https://news.ycombinator.com/item?id=46012345"
    assert comment.published_at == datetime(2026, 11, 24, 11, 58, tzinfo=UTC)
    assert comment.author_handle == comment.author_name == "kpetrov"
    assert comment.author_url == "https://news.ycombinator.com/user?id=kpetrov"
    assert comment.extra == {
        "item_type": "comment", "parent_id": "46012001", "thread_id": "46011900",
        "story_title": "Acme Cloud raises prices by 40% for small teams",
        "discussion_url": "https://news.ycombinator.com/item?id=46012345",
    }
    french = items["46012351"]
    assert french.text.startswith("Pour info, chez nous la migration vers Acme s'est très "
                                  "bien passée")

    story = items["46011900"]
    assert story.title == "Acme Cloud raises prices by 40% for small teams"
    assert story.text == ""  # a link story has no body; normalisation uses the title
    assert story.url == "https://blog.acme-cloud.example/pricing-2027"
    assert story.extra == {
        "item_type": "story", "thread_id": "46011900", "num_comments": 87, "score": 132,
        "discussion_url": "https://news.ycombinator.com/item?id=46011900",
    }
    ask = items["46011700"]
    assert ask.url == "https://news.ycombinator.com/item?id=46011700"
    assert ask.text.startswith("Our buckets on Acme Cloud eu-west returned 503s")
    assert ask.extra["score"] == 41 and ask.extra["num_comments"] == 14

    assert batch.cursor == {"since": 1795521480, "seen": ["46012345", "46012351"]}
    assert batch.more is False


def test_a_second_poll_returns_only_new_items(hn):
    _serve(hn, "search_by_date.json")
    first = _fetch()
    hn.clear()
    _serve(hn, "search_by_date_next.json")
    second = _fetch(first.cursor, LATER)
    assert hn.log[0][0].args["numericFilters"] == "created_at_i>=1795521480"
    # Already-seen ids at the cursor's second are dropped; one indexed late is kept.
    assert [item.external_id for item in second.items] == ["46012390", "46012399"]
    assert second.items[0].extra["parent_id"] == "46012345"
    assert second.cursor == {"since": 1795522200, "seen": ["46012390"]}


def test_an_empty_answer_keeps_the_cursor(hn):
    _serve(hn, "empty.json")
    cursor = {"since": 1795522200, "seen": ["46012390"]}
    batch = _fetch(cursor, LATER)
    assert batch.items == [] and batch.cursor == cursor and not batch.more


def test_late_items_at_the_cursor_second_join_the_seen_ids(hn):
    _serve(hn, "search_by_date_next.json")
    cursor = {"since": 1795522200, "seen": ["46012390"]}
    # The server ignores our filter here; the connector still drops older hits.
    batch = _fetch(cursor, LATER)
    assert batch.items == []
    assert batch.cursor == {"since": 1795522200, "seen": ["46012390"]}


def test_story_tags_and_minimum_points_reach_the_query(hn):
    _serve(hn, "empty.json")
    _fetch({"since": 1795500000, "seen": []}, config={"query": "acme", "tags": "story",
                                                     "min_points": 25})
    args = hn.log[0][0].args
    assert args["tags"] == "story"
    assert args["numericFilters"] == "created_at_i>=1795500000,points>=25"


# --- paging through a fake Algolia index -----------------------------------------------


def _hit(n: int, created: int) -> dict:
    return {
        "_highlightResult": {
            "author": {"matchLevel": "none", "matchedWords": [], "value": f"user{n}"},
            "comment_text": {"fullyHighlighted": False, "matchLevel": "full",
                             "matchedWords": ["acme"], "value": f"<em>Acme</em> comment {n}"},
            "story_title": {"matchLevel": "none", "matchedWords": [], "value": "Acme news"},
        },
        "_tags": ["comment", f"author_user{n}", "story_1"],
        "author": f"user{n}",
        "children": [],
        "comment_text": f"Acme comment {n}",
        "created_at": datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "created_at_i": created,
        "objectID": str(50_000_000 + n),
        "parent_id": 1,
        "story_id": 1,
        "story_title": "Acme news",
        "updated_at": datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


class FakeIndex:
    """search_by_date over a list of hits, with Algolia's 1,000-hit pagination limit."""

    def __init__(self, hits: list[dict], repeat_last_on_next_page: bool = False) -> None:
        self.hits = sorted(hits, key=lambda h: (-h["created_at_i"], h["objectID"]))
        self.repeat = repeat_last_on_next_page
        self.requests: list[dict] = []

    def __call__(self, request: Request) -> WerkzeugResponse:
        args = dict(request.args)
        self.requests.append(args)
        low, high = -math.inf, math.inf
        for condition in args["numericFilters"].split(","):
            if condition.startswith("created_at_i>="):
                low = int(condition.split(">=")[1])
            elif condition.startswith("created_at_i<="):
                high = int(condition.split("<=")[1])
        matching = [h for h in self.hits if low <= h["created_at_i"] <= high]
        per_page, page = int(args["hitsPerPage"]), int(args["page"])
        start = page * per_page
        shown = matching[start:start + per_page] if start < 1000 else []
        if self.repeat and page > 0 and start - 1 < len(matching):
            shown = [matching[start - 1], *shown]  # a page boundary shifted by one
        body = {
            "hits": shown, "hitsPerPage": per_page, "nbHits": len(matching),
            "nbPages": min(math.ceil(len(matching) / per_page), 1000 // per_page),
            "page": page, "exhaustiveNbHits": True, "query": args["query"],
            "params": "", "processingTimeMS": 1,
        }
        return WerkzeugResponse(json.dumps(body), content_type="application/json")


def _drain(server: HTTPServer, index: FakeIndex, cursor, limit: int = 30):
    server.expect_request(PATH).respond_with_handler(index)
    seen: list[str] = []
    batches = []
    for _ in range(limit):
        batch = _fetch(cursor, NOW)
        batches.append(batch)
        seen.extend(item.external_id for item in batch.items)
        cursor = batch.cursor
        if not batch.more:
            return batches, seen, cursor
    raise AssertionError("the connector never finished draining")


def test_a_backlog_is_read_a_few_pages_per_fetch(hn):
    base = 1795500000
    index = FakeIndex([_hit(n, base + 10 * n) for n in range(1, 251)])
    batches, seen, cursor = _drain(hn, index, {"since": base, "seen": []})
    assert [len(b.items) for b in batches] == [200, 50]
    assert [b.more for b in batches] == [True, False]
    assert sorted(seen) == sorted(h["objectID"] for h in index.hits)
    # Pages after the first keep the window fixed at the newest second of the drain.
    assert [r["page"] for r in index.requests] == ["0", "1", "2"]
    assert index.requests[1]["numericFilters"] == (
        f"created_at_i>={base},created_at_i<={base + 2500}")
    assert cursor == {"since": base + 2500, "seen": ["50000250"]}


def test_more_than_1000_hits_are_read_by_narrowing_the_window(hn):
    base = 1795400000
    index = FakeIndex([_hit(n, base + 10 * n) for n in range(1, 1251)])
    batches, seen, cursor = _drain(hn, index, {"since": base, "seen": []})
    assert set(seen) == {h["objectID"] for h in index.hits}
    assert all(len(b.items) <= 200 for b in batches)
    assert any(int(r["page"]) == 0 and "<=" in r["numericFilters"] for r in index.requests)
    assert max(int(r["page"]) for r in index.requests) == 9  # never past Algolia's bound
    assert cursor["since"] == base + 12500 and "drain" not in cursor


def test_items_repeated_across_pages_come_once_and_do_not_loop(hn):
    base = 1795500000
    index = FakeIndex([_hit(n, base + n) for n in range(1, 151)],
                      repeat_last_on_next_page=True)
    batches, seen, _cursor = _drain(hn, index, {"since": base, "seen": []})
    assert len(batches) == 1 and len(batches[0].items) == 150
    assert len(set(seen)) == 150


def test_a_corrupt_cursor_starts_over_from_the_last_day(hn):
    _serve(hn, "empty.json")
    batch = _fetch({"since": "yesterday"})
    day_before = int((NOW - timedelta(days=1)).timestamp())
    assert hn.log[0][0].args["numericFilters"] == f"created_at_i>={day_before}"
    assert batch.cursor == {"since": day_before, "seen": []}


# --- faults ---------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "headers", "permanent", "retry_after"), [
    (403, {}, True, None),
    (404, {}, True, None),
    (429, {"Retry-After": "120"}, False, 120),
    (500, {}, False, None),
    (503, {"Retry-After": "30"}, False, 30),
])
def test_error_statuses(hn, status, headers, permanent, retry_after):
    hn.expect_request(PATH).respond_with_data("{}", status=status, headers=headers)
    error = _fails()
    assert error.permanent is permanent and error.retry_after == retry_after
    assert f"HTTP {status}" in str(error)


def test_algolia_refusal_is_permanent_and_says_why(hn):
    hn.expect_request(PATH).respond_with_data(
        fixture_bytes("hackernews", "error_400.json"), status=400,
        content_type="application/json")
    error = _fails()
    assert error.permanent and "invalid numeric filter" in str(error)


def test_a_silent_peer_times_out(settings):
    settings.CONNECTOR_HTTP_TIMEOUT = 0.5
    with raw_peer(b"", hold=3) as url:
        settings.CONNECTOR_ENDPOINTS = {"hackernews": url}
        error = _fails()
    assert "did not answer within 0.5 s" in str(error) and not error.permanent


def test_a_truncated_body(settings):
    body = fixture_bytes("hackernews", "search_by_date.json")
    with raw_peer(truncated_response(body[: len(body) // 2])) as url:
        settings.CONNECTOR_ENDPOINTS = {"hackernews": url}
        error = _fails()
    assert "truncated" in str(error) and not error.permanent


@pytest.mark.parametrize("body", [b'{"hits": [', b"<html>Service Unavailable</html>",
                                  b'{"message": "ok"}', b'[1, 2]'])
def test_malformed_bodies(hn, body):
    hn.expect_request(PATH).respond_with_data(body, content_type="application/json")
    error = _fails()
    assert not error.permanent
    assert "malformed JSON" in str(error) or "not a search result" in str(error)


def test_a_50_mb_body_with_a_length_is_refused(hn):
    hn.expect_request(PATH).respond_with_response(WerkzeugResponse(
        (b"x" * 65536 for _ in range(800)), content_type="application/json",
        headers={"Content-Length": str(800 * 65536)}))
    error = _fails()
    assert "over the 10 MB limit: not read" in str(error)


def test_a_50_mb_streamed_body_is_cut_at_the_limit(hn):
    sent = []

    def chunks():
        for _ in range(800):
            sent.append(1)
            yield b"[" * 65536

    hn.expect_request(PATH).respond_with_response(
        WerkzeugResponse(chunks(), content_type="application/json"))
    error = _fails()
    assert "more than the 10 MB limit" in str(error)
    assert len(sent) < 800


# --- settings -------------------------------------------------------------------------


def test_validate_config():
    connector = HackerNewsConnector()
    assert connector.validate_config({"query": " acme "}) == {"query": "acme", "tags": "all"}
    assert connector.validate_config({"query": "acme", "tags": "comment", "min_points": "5"}) \
        == {"query": "acme", "tags": "comment", "min_points": 5}
    for config, message in [
        ({}, "query: required"),
        ({"query": "  "}, "query: required"),
        ({"query": "acme", "tags": "jobs"}, "tags: expected one of all, story, comment"),
        ({"query": "acme", "min_points": "-1"}, "min_points: expected a whole number"),
        ({"query": "acme", "min_points": "many"}, "min_points: expected a whole number"),
        ({"query": "acme", "since": "2026"}, "since: unknown setting"),
        ({"query": "x" * 501}, "query: at most 500 characters"),
    ]:
        with pytest.raises(ConfigInvalid, match=message):
            connector.validate_config(config)


# --- through the pipeline -------------------------------------------------------------


@pytest.mark.django_db
def test_a_poll_through_the_pipeline_stores_mentions(hn, acme):
    from veilleur.monitoring.models import Health, Mention
    from veilleur.monitoring.pipeline import poll_source
    from veilleur.monitoring.sources import create_source

    _serve(hn, "search_by_date.json")
    source = create_source(acme, "hackernews", "HN acme", {"query": "acme"})
    report = poll_source(source.pk, NOW)
    assert report.error == "" and report.stored == 5
    source.refresh_from_db()
    assert source.health == Health.OK
    assert source.cursor == {"since": 1795521480, "seen": ["46012345", "46012351"]}
    story = Mention.objects.get(source=source, external_id="46011900")
    assert story.title == "Acme Cloud raises prices by 40% for small teams"
    assert story.author.handle == "jlemaire" and story.author.platform == "hackernews"
