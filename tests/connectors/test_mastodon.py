"""The Mastodon connector against recorded API payloads served on loopback."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime

import pytest
from werkzeug import Request
from werkzeug import Response as WsgiResponse

from tests.connectors.peers import FiftyMegabytes, fixture_bytes, raw_peer, truncated_response
from tests.fakes import NOW
from veilleur.connectors.base import ConfigInvalid, SourceError
from veilleur.connectors.mastodon import (
    MAX_ITEMS,
    MastodonConnector,
    map_status,
    parse_links,
)

TOKEN = "Zx9-secret-token-4Qp"
TAG_PATH = "/api/v1/timelines/tag/nuvia"


def load(name: str):
    return json.loads(fixture_bytes("mastodon", name))


def base_url(httpserver) -> str:
    return httpserver.url_for("").rstrip("/")


def host_of(httpserver) -> str:
    return f"{httpserver.host}:{httpserver.port}"


def config(httpserver, **extra) -> dict:
    raw = {"instance": base_url(httpserver), "mode": "hashtag", "hashtags": "nuvia", **extra}
    return MastodonConnector().validate_config(raw)


def fetch(cfg, cursor=None):
    return MastodonConnector().fetch(cfg, cursor, NOW)


def link(httpserver, path, *, newer=None, older=None) -> str:
    parts = []
    if older:
        parts.append(f'<{httpserver.url_for(path)}?max_id={older}>; rel="next"')
    if newer:
        parts.append(f'<{httpserver.url_for(path)}?min_id={newer}>; rel="prev"')
    return ", ".join(parts)


def fake_statuses(count: int, first_id: int = 116_153_000_000_000_000) -> list[dict]:
    """``count`` public statuses with increasing ids, oldest first."""
    template = load("tag_nuvia.json")[0]
    out = []
    for n in range(count):
        status = copy.deepcopy(template)
        status["id"] = str(first_id + n * 1000)
        status["content"] = f"<p>Avis numéro {n} sur #nuvia</p>"
        out.append(status)
    return out


class Timeline:
    """A tag timeline over ``statuses`` honouring limit, min_id and max_id like Mastodon."""

    def __init__(self, httpserver, statuses, path=TAG_PATH):
        self.httpserver, self.statuses, self.path = httpserver, statuses, path
        self.requests: list[dict] = []

    def __call__(self, request: Request) -> WsgiResponse:
        args = request.args.to_dict()
        self.requests.append(args)
        limit = int(args.get("limit", 20))
        ordered = sorted(self.statuses, key=lambda s: int(s["id"]))
        if "min_id" in args:
            page = [s for s in ordered if int(s["id"]) > int(args["min_id"])][:limit]
        elif "max_id" in args:
            page = [s for s in ordered if int(s["id"]) < int(args["max_id"])][-limit:]
        else:
            page = ordered[-limit:]
        page.reverse()  # newest first, as Mastodon answers
        headers = {}
        if page:
            headers["Link"] = link(self.httpserver, self.path, newer=page[0]["id"],
                                   older=page[-1]["id"])
        return WsgiResponse(json.dumps(page), headers=headers, content_type="application/json")


# -- mapping -----------------------------------------------------------------------------


def test_a_recorded_tag_timeline_is_mapped(httpserver):
    statuses = load("tag_nuvia.json")
    httpserver.expect_request(TAG_PATH).respond_with_json(statuses, headers={
        "Link": link(httpserver, TAG_PATH, newer=statuses[0]["id"], older=statuses[-1]["id"])})
    batch = fetch(config(httpserver))
    host = host_of(httpserver)
    by_id = {item.external_id: item for item in batch.items}
    # The followers-only post (visibility "private") is not stored.
    assert list(by_id) == [f"{host}:{statuses[0]['id']}", f"{host}:{statuses[1]['id']}",
                           f"{host}:{statuses[3]['id']}"]
    first = by_id[f"{host}:116153259623186432"]
    assert first.text.startswith("Troisième panne cette semaine chez Nuvia")
    assert "#nuvia #panne" in first.text and "<" not in first.text
    assert first.text.endswith(
        "[image: Capture d'écran de l'appli Nuvia : « Erreur 503, réessayez plus tard ».]")
    assert first.title == ""
    assert first.url == "https://mastodon.example/@camille_b/116153259623186432"
    assert first.published_at == datetime(2026, 3, 1, 9, 41, 27, 512000, tzinfo=UTC)
    assert first.author_handle == f"@camille_b@{httpserver.host}"
    assert first.author_name == "Camille B. 🌿"
    assert first.author_url == "https://mastodon.example/@camille_b"
    assert first.author_followers == 842
    assert first.lang_hint == "fr"
    assert first.extra == {
        "item_type": "post", "score": 15, "favourites": 12, "reblogs": 3, "replies": 2,
        "uri": "https://mastodon.example/users/camille_b/statuses/116153259623186432",
    }
    reply = by_id[f"{host}:116153143984390144"]
    assert reply.title == "Nuvia outage rant"  # the content warning
    assert "https://status.nuvia.example/incidents/2026-03" in reply.text
    assert reply.author_handle == "@jdoe@fosstodon.org" and reply.author_followers == 15230
    assert reply.extra["parent_id"] == f"{host}:113944990000000001"
    assert reply.extra["item_type"] == "comment"
    assert reply.url.startswith("https://fosstodon.org/@jdoe/")
    bot = by_id[f"{host}:116152978636800000"]
    assert bot.extra["author_bot"] is True and bot.lang_hint == ""
    assert batch.cursor == {"v": 1, "instance": base_url(httpserver), "mode": "hashtag",
                            "streams": {"tag:nuvia": {"min_id": "116153259623186432"}}}
    assert batch.more is False and batch.hint.retry_after is None


def test_a_boost_is_mapped_as_the_original_post():
    boost = load("status_boost.json")
    item = map_status(boost, "mastodon.example")
    original = boost["reblog"]
    assert item.external_id == f"mastodon.example:{original['id']}"
    assert item.author_handle == "@jdoe@fosstodon.org"
    assert item.text.startswith("Nuvia support fixed my billing issue")
    assert item.url == original["url"]


def test_direct_and_followers_only_posts_are_dropped():
    status = load("tag_nuvia.json")[0]
    for visibility in ("private", "direct", None):
        assert map_status({**status, "visibility": visibility}, "h") is None
    assert map_status({**status, "visibility": "unlisted"}, "h") is not None


def test_link_headers_are_read_for_their_ids_only():
    header = ('<https://elsewhere.example/api/v1/timelines/tag/x?limit=40&max_id=10>; rel="next", '
              "<https://elsewhere.example/api/v1/timelines/tag/x?min_id=99&limit=40>; rel=prev")
    assert parse_links(header) == {"next": {"max_id": "10"}, "prev": {"min_id": "99"}}
    assert parse_links("") == {} and parse_links("garbage, <>") == {}


def test_a_hostile_link_header_is_read_in_linear_time():
    started = time.monotonic()
    assert parse_links("<" * 60_000) == {}  # took ~15 s when "<" could sit inside <...>
    assert parse_links("<" * 30_000 + '<https://x.example/?min_id=7>; rel="prev"') == {
        "prev": {"min_id": "7"}}
    assert time.monotonic() - started < 1.0


def test_a_creation_time_with_an_offset_is_read_in_utc():
    status = {**load("tag_nuvia.json")[0], "created_at": "2026-03-01T10:00:00.000+01:00"}
    item = map_status(status, "h")
    assert item is not None and item.published_at.tzinfo is UTC
    assert item.published_at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


# -- cursor and paging -------------------------------------------------------------------


def test_an_oversized_id_does_not_enter_the_cursor(httpserver):
    statuses = fake_statuses(3)
    statuses[-1]["id"] = "9" * 10_000  # newest by length: it would become min_id
    httpserver.expect_request(TAG_PATH).respond_with_json(statuses[::-1])
    batch = fetch(config(httpserver))
    assert len(batch.items) == 3
    assert batch.cursor["streams"]["tag:nuvia"] == {"min_id": statuses[1]["id"]}


def test_the_second_poll_asks_for_newer_posts_only(httpserver):
    statuses = load("tag_nuvia.json")
    newer = load("tag_nuvia_new.json")
    httpserver.expect_ordered_request(TAG_PATH, query_string={"limit": "40"}).respond_with_json(
        statuses, headers={"Link": link(httpserver, TAG_PATH, newer=statuses[0]["id"])})
    httpserver.expect_ordered_request(
        TAG_PATH, query_string={"limit": "40", "min_id": statuses[0]["id"]}
    ).respond_with_json(newer, headers={"Link": link(httpserver, TAG_PATH, newer=newer[0]["id"])})
    # Nothing newer: Mastodon answers an empty list without a Link header.
    httpserver.expect_ordered_request(
        TAG_PATH, query_string={"limit": "40", "min_id": newer[0]["id"]}).respond_with_json([])
    cfg = config(httpserver)
    first = fetch(cfg)
    second = fetch(cfg, first.cursor)
    third = fetch(cfg, second.cursor)
    host = host_of(httpserver)
    assert [i.external_id for i in second.items] == [f"{host}:{s['id']}" for s in newer]
    assert second.cursor["streams"]["tag:nuvia"] == {"min_id": newer[0]["id"]}
    assert third.items == [] and third.cursor == second.cursor
    httpserver.check_assertions()


def test_a_backlog_is_read_in_order_a_bounded_number_of_pages_per_fetch(httpserver):
    statuses = fake_statuses(450)
    timeline = Timeline(httpserver, statuses)
    httpserver.expect_request(TAG_PATH).respond_with_handler(timeline)
    cfg = config(httpserver)
    cursor = {"v": 1, "instance": base_url(httpserver), "mode": "hashtag",
              "streams": {"tag:nuvia": {"min_id": "1"}}}
    seen: list[str] = []
    fetches = 0
    while True:
        batch = fetch(cfg, cursor)
        fetches += 1
        assert len(batch.items) <= MAX_ITEMS
        seen += [item.external_id.rsplit(":", 1)[1] for item in batch.items]
        cursor = batch.cursor
        if not batch.more:
            break
    assert fetches == 3  # 200 + 200 + 50: more=True asked for the next fetches at once
    assert sorted(seen, key=int) == [s["id"] for s in statuses]  # nothing lost, no repeats
    assert cursor["streams"]["tag:nuvia"]["min_id"] == statuses[-1]["id"]
    assert all("min_id" in args and "max_id" not in args for args in timeline.requests)


def test_the_first_poll_reads_the_newest_page_and_a_few_older_ones(httpserver):
    statuses = fake_statuses(300)
    timeline = Timeline(httpserver, statuses)
    httpserver.expect_request(TAG_PATH).respond_with_handler(timeline)
    batch = fetch(config(httpserver))
    assert len(batch.items) == 120 and batch.more is False
    assert [("max_id" in r) for r in timeline.requests] == [False, True, True]
    assert batch.cursor["streams"]["tag:nuvia"] == {"min_id": statuses[-1]["id"]}


def test_duplicates_across_pages_are_returned_once_and_a_stuck_server_is_left(httpserver):
    statuses = fake_statuses(40)
    requests = []

    def stuck(request: Request) -> WsgiResponse:
        # Always the same full page and the same prev link: no progress is possible.
        requests.append(request.args.to_dict())
        return WsgiResponse(json.dumps(statuses[::-1]), content_type="application/json",
                            headers={"Link": link(httpserver, TAG_PATH, newer="5")})

    httpserver.expect_request(TAG_PATH).respond_with_handler(stuck)
    cursor = {"v": 1, "instance": base_url(httpserver), "mode": "hashtag",
              "streams": {"tag:nuvia": {"min_id": "5"}}}
    batch = fetch(config(httpserver), cursor)
    assert len(requests) == 1 and batch.more is False
    assert len({i.external_id for i in batch.items}) == len(batch.items) == 40


def test_overlapping_pages_give_each_post_once(httpserver):
    statuses = fake_statuses(70)
    ordered = statuses  # oldest first

    def overlapping(request: Request) -> WsgiResponse:
        after = int(request.args["min_id"])
        newer = [s for s in ordered if int(s["id"]) > after]
        # A sloppy server: each page starts 5 posts before the requested min_id.
        start = max(0, len(ordered) - len(newer) - 5)
        page = ordered[start:start + 40][::-1]
        return WsgiResponse(json.dumps(page), content_type="application/json",
                            headers={"Link": link(httpserver, TAG_PATH, newer=page[0]["id"])})

    httpserver.expect_request(TAG_PATH).respond_with_handler(overlapping)
    cursor = {"v": 1, "instance": base_url(httpserver), "mode": "hashtag",
              "streams": {"tag:nuvia": {"min_id": "1"}}}
    batch = fetch(config(httpserver), cursor)
    ids = [i.external_id for i in batch.items]
    assert len(ids) == len(set(ids)) == 70


def test_each_hashtag_has_its_own_cursor(httpserver):
    statuses = load("tag_nuvia.json")
    httpserver.expect_request(TAG_PATH).respond_with_json(
        statuses, headers={"Link": link(httpserver, TAG_PATH, newer=statuses[0]["id"])})
    httpserver.expect_request("/api/v1/timelines/tag/Panne").respond_with_json(
        statuses[:1],
        headers={"Link": link(httpserver, "/api/v1/timelines/tag/Panne", newer="42")})
    cfg = config(httpserver, hashtags="#nuvia\n#Panne\nNUVIA")
    assert cfg["hashtags"] == ["nuvia", "Panne"]
    batch = fetch(cfg)
    assert batch.cursor["streams"] == {"tag:nuvia": {"min_id": statuses[0]["id"]},
                                       "tag:panne": {"min_id": "42"}}
    assert len(batch.items) == 3  # the post under both tags counts once


def test_a_cursor_from_another_instance_or_mode_is_not_reused(httpserver):
    statuses = load("tag_nuvia.json")
    httpserver.expect_request(TAG_PATH, query_string={"limit": "40"}).respond_with_json(statuses)
    stale = {"v": 1, "instance": "https://mastodon.social", "mode": "hashtag",
             "streams": {"tag:nuvia": {"min_id": "999999999999999999"}}}
    batch = fetch(config(httpserver), stale)
    assert len(batch.items) == 3
    assert batch.cursor["instance"] == base_url(httpserver)
    # Without a Link header the newest id of the page is the cursor.
    assert batch.cursor["streams"]["tag:nuvia"] == {"min_id": statuses[0]["id"]}


def test_an_access_token_is_sent_as_a_header_for_hashtags_when_given(httpserver):
    httpserver.expect_request(
        TAG_PATH, headers={"Authorization": f"Bearer {TOKEN}"}).respond_with_json([])
    batch = fetch(config(httpserver, access_token=TOKEN))
    assert batch.items == [] and batch.cursor["streams"] == {"tag:nuvia": {}}


# -- notifications and search ------------------------------------------------------------


def test_mentions_come_from_notifications_and_private_ones_are_dropped(httpserver):
    notifications = load("notifications_mentions.json")
    path = "/api/v1/notifications"
    httpserver.expect_request(
        path, query_string={"types[]": "mention", "limit": "40"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).respond_with_json(notifications, headers={
        "Link": link(httpserver, path, newer="48213377", older="48212904")})
    cfg = config(httpserver, mode="notifications", access_token=TOKEN, hashtags="")
    batch = fetch(cfg)
    host = host_of(httpserver)
    statuses = [n["status"] for n in notifications]
    assert [i.external_id for i in batch.items] == [f"{host}:{statuses[0]['id']}",
                                                   f"{host}:{statuses[2]['id']}"]
    assert "your payment page has been down" in batch.items[0].text
    assert batch.items[1].extra["parent_id"] == f"{host}:113946000000000042"
    # The cursor is a notification id, not a status id.
    assert batch.cursor["streams"] == {"mentions": {"min_id": "48213377"}}

    httpserver.clear()
    httpserver.expect_request(
        path, query_string={"types[]": "mention", "limit": "40", "min_id": "48213377"}
    ).respond_with_json([])
    again = fetch(cfg, batch.cursor)
    assert again.items == [] and again.cursor == batch.cursor


def test_search_finds_statuses_then_pages_new_ones_by_offset(httpserver):
    results = load("search_statuses.json")
    httpserver.expect_ordered_request(
        "/api/v2/search", query_string={"q": "nuvia panne", "type": "statuses", "limit": "40"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).respond_with_json(results)
    cfg = config(httpserver, mode="search", query="nuvia panne", access_token=TOKEN, hashtags="")
    first = fetch(cfg)
    assert len(first.items) == 2
    newest = results["statuses"][0]["id"]
    assert first.cursor["streams"] == {"search:nuvia panne": {"min_id": newest}}

    backlog = fake_statuses(85, first_id=int(newest) + 1)
    offsets = []

    def search(request: Request) -> WsgiResponse:
        assert request.args["min_id"] == newest
        offset = int(request.args["offset"])
        offsets.append(offset)
        page = backlog[::-1][offset:offset + 40]
        return WsgiResponse(json.dumps({"accounts": [], "statuses": page, "hashtags": []}),
                            content_type="application/json")

    httpserver.expect_request("/api/v2/search").respond_with_handler(search)
    second = fetch(cfg, first.cursor)
    assert offsets == [0, 40, 80]
    assert len(second.items) == 85 and second.more is False
    assert second.cursor["streams"] == {"search:nuvia panne": {"min_id": backlog[-1]["id"]}}


def test_search_without_full_text_search_finds_no_posts_quietly(httpserver):
    # Servers without Elasticsearch return accounts and hashtags, never statuses.
    httpserver.expect_request("/api/v2/search").respond_with_json(
        load("search_without_fulltext.json"))
    cfg = config(httpserver, mode="search", query="nuvia", access_token=TOKEN, hashtags="")
    batch = fetch(cfg)
    assert batch.items == [] and batch.cursor["streams"] == {"search:nuvia": {}}


# -- rate limits -------------------------------------------------------------------------


def test_paging_stops_before_the_rate_limit_is_spent(httpserver):
    statuses = fake_statuses(120)
    timeline = Timeline(httpserver, statuses)

    def limited(request: Request) -> WsgiResponse:
        response = timeline(request)
        response.headers["X-RateLimit-Limit"] = "300"
        response.headers["X-RateLimit-Remaining"] = "3"
        response.headers["X-RateLimit-Reset"] = "2026-03-01T12:01:30.000Z"  # NOW + 90 s
        return response

    httpserver.expect_request(TAG_PATH).respond_with_handler(limited)
    cursor = {"v": 1, "instance": base_url(httpserver), "mode": "hashtag",
              "streams": {"tag:nuvia": {"min_id": "1"}}}
    batch = fetch(config(httpserver), cursor)
    assert len(timeline.requests) == 1 and len(batch.items) == 40
    assert batch.hint.retry_after == pytest.approx(90)
    assert batch.more is False  # waiting for the reset wins over reading the backlog now
    assert batch.cursor["streams"]["tag:nuvia"]["min_id"] == statuses[39]["id"]


def test_an_exhausted_rate_limit_on_a_success_delays_the_next_poll(httpserver):
    httpserver.expect_request(TAG_PATH).respond_with_json([], headers={
        "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-03-01T12:05:00.000Z"})
    assert fetch(config(httpserver)).hint.retry_after == pytest.approx(300)


# -- faults ------------------------------------------------------------------------------


def test_an_invalid_token_is_permanent_and_the_message_keeps_it_secret(httpserver):
    httpserver.expect_request("/api/v1/notifications").respond_with_data(
        fixture_bytes("mastodon", "error_invalid_token.json"), status=401,
        content_type="application/json")
    cfg = config(httpserver, mode="notifications", access_token=TOKEN, hashtags="")
    with pytest.raises(SourceError) as caught:
        fetch(cfg)
    assert caught.value.permanent
    assert "read:notifications" in str(caught.value)
    assert "(HTTP 401, The access token is invalid)" in str(caught.value)
    assert TOKEN not in str(caught.value) and "types" not in str(caught.value)


def test_a_server_requiring_sign_in_for_tag_timelines_says_to_add_a_token(httpserver):
    httpserver.expect_request(TAG_PATH).respond_with_data(
        fixture_bytes("mastodon", "error_requires_user.json"), status=422,
        content_type="application/json")
    with pytest.raises(SourceError, match="add an access_token") as caught:
        fetch(config(httpserver))
    assert caught.value.permanent


def test_a_token_without_the_search_scope_is_permanent(httpserver):
    httpserver.expect_request("/api/v2/search").respond_with_data(
        fixture_bytes("mastodon", "error_scope.json"), status=403,
        content_type="application/json")
    cfg = config(httpserver, mode="search", query="nuvia", access_token=TOKEN, hashtags="")
    with pytest.raises(SourceError, match=r"read:search.*accounts and hashtags") as caught:
        fetch(cfg)
    assert caught.value.permanent


def test_not_found_is_permanent(httpserver):
    httpserver.expect_request(TAG_PATH).respond_with_data(
        fixture_bytes("mastodon", "error_not_found.json"), status=404,
        content_type="application/json")
    with pytest.raises(SourceError, match="Mastodon server") as caught:
        fetch(config(httpserver))
    assert caught.value.permanent


def test_429_with_retry_after_is_transient_with_the_wait(httpserver):
    httpserver.expect_request(TAG_PATH).respond_with_data(
        fixture_bytes("mastodon", "error_too_many_requests.json"), status=429,
        headers={"Retry-After": "120"}, content_type="application/json")
    with pytest.raises(SourceError) as caught:
        fetch(config(httpserver))
    assert not caught.value.permanent and caught.value.retry_after == 120


def test_429_with_only_rate_limit_headers_waits_for_the_iso_reset(httpserver):
    httpserver.expect_request(TAG_PATH).respond_with_data(
        fixture_bytes("mastodon", "error_too_many_requests.json"), status=429,
        content_type="application/json",
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-03-01T12:02:00.000Z"})
    with pytest.raises(SourceError) as caught:
        fetch(config(httpserver))
    assert not caught.value.permanent and caught.value.retry_after == pytest.approx(120)


def test_a_server_error_is_transient(httpserver):
    httpserver.expect_request(TAG_PATH).respond_with_data("<h1>We're sorry</h1>", status=500)
    with pytest.raises(SourceError, match="server error") as caught:
        fetch(config(httpserver))
    assert not caught.value.permanent


def test_a_peer_that_never_answers_times_out(settings):
    settings.CONNECTOR_HTTP_TIMEOUT = 0.5
    with raw_peer(b"", hold=5) as url:
        cfg = MastodonConnector().validate_config({"instance": url, "hashtags": "nuvia"})
        with pytest.raises(SourceError, match="did not answer") as caught:
            fetch(cfg)
    assert not caught.value.permanent


def test_a_truncated_body_is_a_transient_error():
    body = fixture_bytes("mastodon", "tag_nuvia.json")
    with raw_peer(truncated_response(body)) as url:
        cfg = MastodonConnector().validate_config({"instance": url, "hashtags": "nuvia"})
        with pytest.raises(SourceError, match="broke off") as caught:
            fetch(cfg)
    assert not caught.value.permanent


def test_a_malformed_body_is_an_error(httpserver):
    httpserver.expect_request(TAG_PATH).respond_with_data(
        b'[{"id": "1", "content": "<p>cut', content_type="application/json")
    with pytest.raises(SourceError, match="malformed JSON"):
        fetch(config(httpserver))


def test_a_body_of_the_wrong_shape_is_an_error(httpserver):
    httpserver.expect_request(TAG_PATH).respond_with_json({"statuses": []})
    with pytest.raises(SourceError, match="did not answer like a Mastodon server"):
        fetch(config(httpserver))


@pytest.mark.parametrize("declare_length", [False, True])
def test_a_50_mb_body_is_refused_unread(httpserver, declare_length):
    body = FiftyMegabytes(declare_length=declare_length)
    httpserver.expect_request(TAG_PATH).respond_with_response(body.response())
    with pytest.raises(SourceError, match="limit"):
        fetch(config(httpserver))
    assert body.sent < 20


# -- configuration -----------------------------------------------------------------------


def test_validate_config_cleans_a_bare_host_and_hashtags():
    clean = MastodonConnector().validate_config(
        {"instance": "Mastodon.Social/", "hashtags": ["#Nuvia", "nuvia", "panne"]})
    assert clean == {"instance": "https://mastodon.social", "mode": "hashtag",
                     "hashtags": ["Nuvia", "panne"]}


@pytest.mark.parametrize(("raw", "message"), [
    ({"hashtags": "nuvia"}, "instance: required"),
    ({"instance": "ftp://mastodon.social", "hashtags": "x"}, "instance: expected an http"),
    ({"instance": "https://mastodon.social/@nuvia", "hashtags": "x"}, "not a page on it"),
    ({"instance": "https://mastodon.social"}, "hashtags: at least one"),
    ({"instance": "https://mastodon.social", "hashtags": "nuvia panne"}, "is not a hashtag"),
    ({"instance": "https://mastodon.social", "hashtags": [f"t{n}" for n in range(11)]},
     "hashtags: at most 10"),
    ({"instance": "https://mastodon.social", "mode": "search", "access_token": "t"},
     "query: required"),
    ({"instance": "https://mastodon.social", "mode": "search", "query": "nuvia"},
     "access_token: .*only accounts and hashtags"),
    ({"instance": "https://mastodon.social", "mode": "notifications"},
     "access_token: required to read the mentions"),
    ({"instance": "https://mastodon.social", "mode": "timeline", "hashtags": "x"},
     "mode: expected one of hashtag, search, notifications"),
    ({"instance": "http://mastodon.example", "hashtags": "x", "access_token": "t"},
     "unencrypted"),
    ({"instance": "https://mastodon.social", "hashtags": "x", "limit": "40"},
     "limit: unknown setting"),
])
def test_validate_config_errors(raw, message):
    with pytest.raises(ConfigInvalid, match=message):
        MastodonConnector().validate_config(raw)


# -- through the pipeline ----------------------------------------------------------------


@pytest.mark.django_db
def test_mentions_are_stored_through_the_pipeline(httpserver, acme):
    from veilleur.monitoring.models import Mention, Source
    from veilleur.monitoring.pipeline import poll_source
    from veilleur.monitoring.sources import create_source

    httpserver.expect_request(
        "/api/v1/notifications", headers={"Authorization": f"Bearer {TOKEN}"}
    ).respond_with_json(load("notifications_mentions.json"))
    source = create_source(acme, "mastodon", "Nuvia on Mastodon", {
        "instance": base_url(httpserver), "mode": "notifications", "access_token": TOKEN})
    assert source.config["access_token"].startswith("enc:v1:")  # sealed at rest
    report = poll_source(source.pk, NOW)
    assert (report.error, report.stored) == ("", 2)
    host = host_of(httpserver)
    mention = Mention.objects.get(source=source, external_id__endswith=":116153576983756800")
    assert mention.external_id == f"{host}:116153576983756800"
    assert mention.author.handle == "@jdoe@fosstodon.org" and mention.author.followers == 15230
    assert mention.author.platform == "mastodon"
    assert mention.lang == "en" and mention.extra["score"] == 11
    source.refresh_from_db()
    assert source.cursor["streams"] == {"mentions": {"min_id": "48213377"}}
    assert Source.objects.get(pk=source.pk).health == "ok"
