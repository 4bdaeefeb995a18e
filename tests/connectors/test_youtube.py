"""The YouTube connector against recorded Data API v3 answers served on loopback."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request
from werkzeug import Response as WerkzeugResponse

from tests.connectors.peers import fixture_bytes, raw_peer, truncated_response
from veilleur.connectors import youtube
from veilleur.connectors.base import ConfigInvalid, SourceError
from veilleur.connectors.registry import get_connector
from veilleur.connectors.youtube import YouTubeConnector, pacific_midnight_wait, video_id

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 12, 15, tzinfo=UTC)
PATH = "/commentThreads"
KEY = "AIzaSyD-Test0Key1Never2Shown3AnywhereXy"
VIDEO = "k3Xq9vB7nPa"
OTHER = "Hn5Rt8Lp2Wa"
CHANNEL = "UCx7Qm2vR9pL4sT1wZ8yK3aB"
CONFIG = {"api_key": KEY, "video_ids": [VIDEO]}
T1 = "UgxKREWxIgDrw8w2e_Z4AaABAg"
T2 = "Ugz7pQ1rVb3nM5kL9tY2AaABAg"
T3 = "UgyH4cN8dE2fG6jK0mP1AaABAg"
T4 = "UgwA1sD2fG3hJ4kL5zX6AaABAg"
T6 = "UgxN3wC0mM3nT4aBcDeFgHiJAaABAg"
R1 = T1 + ".9zT5p0Lm3Qy9zT6aBcDeFg"
R2 = T1 + ".9zT5p0Lm3Qy9zT7hIjKlMn"
TOKEN1 = "QURTSl9pM0w2dG9fbWFya2VyXzE"


@pytest.fixture
def api(httpserver: HTTPServer, settings) -> HTTPServer:
    settings.CONNECTOR_ENDPOINTS = {"youtube": httpserver.url_for("/").rstrip("/")}
    return httpserver


def _json(name: str) -> dict:
    return json.loads(fixture_bytes("youtube", name))


def _reply(body, status: int = 200, headers=None) -> WerkzeugResponse:
    data = body if isinstance(body, bytes) else json.dumps(body)
    return WerkzeugResponse(data, status=status, headers=headers,
                            content_type="application/json; charset=UTF-8")


class Pages:
    """commentThreads by target and page token; an error body per video if asked."""

    def __init__(self, pages: dict[tuple[str, str], object], errors=None) -> None:
        self.pages = pages
        self.errors = errors or {}
        self.requests: list[dict] = []

    def __call__(self, request: Request) -> WerkzeugResponse:
        args = dict(request.args)
        self.requests.append(args)
        target = args.get("videoId") or args.get("allThreadsRelatedToChannelId", "")
        if target in self.errors:
            status, name = self.errors[target]
            return _reply(fixture_bytes("youtube", name), status)
        body = self.pages.get((target, args.get("pageToken", "")))
        if body is None:
            return _reply(_json("threads_channel.json") | {"items": []})
        return _reply(body)


def _video_pages() -> dict:
    return {(VIDEO, ""): _json("threads_video_page1.json"),
            (VIDEO, TOKEN1): _json("threads_video_page2.json")}


def _serve(server: HTTPServer, pages: Pages) -> Pages:
    server.expect_request(PATH).respond_with_handler(pages)
    return pages


def _fetch(cursor=None, now=NOW, config=CONFIG):
    return YouTubeConnector().fetch(config, cursor, now)


def _fails(cursor=None, config=CONFIG) -> SourceError:
    with pytest.raises(SourceError) as caught:
        _fetch(cursor, config=config)
    return caught.value


# --- mapping and cursor ---------------------------------------------------------------


def test_the_registry_knows_the_kind():
    assert isinstance(get_connector("youtube"), YouTubeConnector)
    assert [f.name for f in YouTubeConnector.fields if f.secret] == ["api_key"]


def test_recorded_pages_map_every_field_and_stop_at_the_lookback(api):
    pages = _serve(api, Pages(_video_pages()))
    batch = _fetch()
    first = pages.requests[0]
    assert first == {"part": "snippet,replies", "videoId": VIDEO, "order": "time",
                     "maxResults": "100", "textFormat": "plainText", "key": KEY}
    # Page 2 holds a thread older than the first poll's week: no third page.
    assert [r.get("pageToken") for r in pages.requests] == [None, TOKEN1]

    items = {item.external_id: item for item in batch.items}
    assert list(items) == [T1, R2, R1, T2, T3, T4]
    top = items[T1]
    assert top.text == ("Acme Cloud lost two hours of our orders today and the status page "
                        "stayed green the whole time. Not ok.")
    assert top.url == f"https://www.youtube.com/watch?v={VIDEO}&lc={T1}"
    assert top.published_at == datetime(2026, 11, 24, 11, 50, tzinfo=UTC)
    # The channel id is the handle (as YouTube feeds read by the rss connector have it).
    assert top.author_handle == "UCa1b2c3d4e5f6g7h8i9j0kL"
    assert top.author_name == "@sam.okafor"
    assert top.author_url == "http://www.youtube.com/@sam.okafor"
    assert top.extra == {"item_type": "comment", "comment_thread_id": T1, "thread_id": VIDEO,
                         "video_id": VIDEO, "score": 48, "reply_count": 2,
                         "author_channel_id": "UCa1b2c3d4e5f6g7h8i9j0kL"}
    reply = items[R1]
    assert reply.extra["parent_id"] == T1 and reply.extra["thread_id"] == VIDEO
    assert reply.url == f"https://www.youtube.com/watch?v={VIDEO}&lc={R1}"
    assert "reply_count" not in reply.extra
    assert items[T2].text.startswith("Franchement la nouvelle interface d'Acme")
    assert items[T3].text.endswith("<3 is a joke & a half.")  # plain text, left as it is

    assert batch.cursor == {"targets": {f"video:{VIDEO}": {
        "since": "2026-11-24T11:50:00Z", "ids": [T1]}}, "next": 0}
    assert batch.more is False


def test_a_second_poll_stops_at_the_first_seen_thread(api):
    pages = _serve(api, Pages(_video_pages()))
    first = _fetch()
    pages.pages = {(VIDEO, ""): _json("threads_video_next.json")}
    pages.requests.clear()
    second = _fetch(first.cursor, LATER)
    assert len(pages.requests) == 1  # the page held seen threads: no next page
    assert [item.external_id for item in second.items] == [T6]
    assert second.cursor["targets"][f"video:{VIDEO}"] == {
        "since": "2026-11-24T12:10:00Z", "ids": [T6]}


def test_a_channel_reads_all_its_videos(api):
    pages = _serve(api, Pages({(CHANNEL, ""): _json("threads_channel.json")}))
    batch = _fetch(config={"api_key": KEY, "channel_id": CHANNEL})
    assert pages.requests[0]["allThreadsRelatedToChannelId"] == CHANNEL
    assert "videoId" not in pages.requests[0]
    assert [item.url for item in batch.items] == [
        f"https://www.youtube.com/watch?v={OTHER}&lc=UgyC1hAnNeL7aBcDeFgHiJ4AaABAg",
        f"https://www.youtube.com/watch?v={VIDEO}&lc=UgwC2hAnNeL8kLmNoPqRsT5AaABAg"]
    assert batch.items[0].extra["thread_id"] == OTHER
    assert list(batch.cursor["targets"]) == [f"channel:{CHANNEL}"]


# --- paging and budgets through synthetic pages ---------------------------------------


def _thread(n: int, at: datetime, video: str = VIDEO) -> dict:
    page = _json("threads_video_page2.json")["items"][0]
    thread = json.loads(json.dumps(page))
    thread["id"] = thread["snippet"]["topLevelComment"]["id"] = f"Ugthread{n:05d}AaABAg"
    thread["snippet"]["videoId"] = video
    thread["snippet"]["topLevelComment"]["snippet"]["publishedAt"] = at.strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    thread["snippet"]["topLevelComment"]["snippet"]["textDisplay"] = f"Acme comment {n}"
    return thread


def _paged(video: str, threads: list[dict], per_page: int = 100, repeat: bool = False):
    pages = {}
    for number, start in enumerate(range(0, len(threads), per_page)):
        chunk = threads[start:start + per_page]
        if repeat and start:
            chunk = [threads[start - 1], *chunk]  # a boundary shifted by one
        body = _json("threads_video_page1.json") | {"items": chunk}
        body.pop("nextPageToken")
        if start + per_page < len(threads):
            body["nextPageToken"] = f"tok{number + 1}"
        pages[(video, "" if number == 0 else f"tok{number}")] = body
    return pages


def test_a_backlog_is_read_three_pages_per_fetch_then_only_the_pending_target(api):
    threads = [_thread(n, NOW - timedelta(minutes=n)) for n in range(500)]
    small = [_thread(900 + n, NOW - timedelta(minutes=n), OTHER) for n in range(3)]
    pages = _serve(api, Pages(_paged(VIDEO, threads) | _paged(OTHER, small)))
    config = {"api_key": KEY, "video_ids": [VIDEO, OTHER]}
    first = _fetch(config=config)
    # Three pages of the busy video fill the fetch (300 items): the round stops there.
    assert len(first.items) == 300 and first.more
    assert first.cursor["targets"][f"video:{VIDEO}"]["pending"]["token"] == "tok3"
    assert first.cursor["next"] == 1 and "pending_only" not in first.cursor
    pages.requests.clear()
    second = _fetch(first.cursor, config=config)
    # The round goes on with the other video; the busy one still has pages left.
    assert [r["videoId"] for r in pages.requests] == [OTHER]
    assert len(second.items) == 3 and second.more and second.cursor["pending_only"]
    pages.requests.clear()
    third = _fetch(second.cursor, config=config)
    # Only the video with pages left is called, from where it stopped.
    assert [(r["videoId"], r.get("pageToken")) for r in pages.requests] == [
        (VIDEO, "tok3"), (VIDEO, "tok4")]
    assert len(third.items) == 200 and not third.more
    read = {i.external_id for b in (first, second, third) for i in b.items}
    assert read == {t["id"] for t in threads + small}
    assert third.cursor["targets"][f"video:{VIDEO}"] == {
        "since": "2026-11-24T12:00:00Z", "ids": ["Ugthread00000AaABAg"]}
    assert "pending_only" not in third.cursor and third.cursor["next"] == 0


def test_many_videos_share_a_call_budget_in_rounds(api, monkeypatch):
    monkeypatch.setattr(youtube, "MAX_CALLS_PER_FETCH", 4)
    videos = [f"vid{n:02d}abcde"[:11] for n in range(6)]
    pages = _serve(api, Pages({(v, ""): _json("threads_channel.json") | {"items": []}
                               for v in videos}))
    config = {"api_key": KEY, "video_ids": videos}
    first = _fetch(config=config)
    assert first.more and first.cursor["next"] == 4
    second = _fetch(first.cursor, config=config)
    assert not second.more and second.cursor["next"] == 0
    assert [r["videoId"] for r in pages.requests] == videos


def test_threads_repeated_across_pages_come_once(api):
    threads = [_thread(n, NOW - timedelta(minutes=n)) for n in range(150)]
    _serve(api, Pages(_paged(VIDEO, threads, repeat=True)))
    batch = _fetch()
    ids = [item.external_id for item in batch.items]
    assert len(ids) == len(set(ids)) == 150 and not batch.more


@pytest.mark.parametrize("stuck", ["same", "cycle", "oversized"])
def test_a_server_that_does_not_move_on_ends_the_backlog(api, stuck):
    threads = [_thread(n, NOW - timedelta(minutes=n)) for n in range(3)]
    page = _json("threads_channel.json") | {"items": threads}
    tokens = {"same": ["tok1", "tok1"], "cycle": ["tok1", "tok2", "tok1"],
              "oversized": ["t" * 5000]}[stuck]
    bodies = {(VIDEO, ""): page | {"nextPageToken": tokens[0]}}
    for used, following in zip(tokens, [*tokens[1:], tokens[-1]], strict=True):
        bodies[(VIDEO, used)] = page | {"nextPageToken": following}
    pages = _serve(api, Pages(bodies))
    batch = _fetch()
    # Without the check the same pages were asked for until the budget ran out, and
    # a backlog kept pending asked for an immediate re-poll, again and again.
    assert not batch.more and "pending" not in batch.cursor["targets"][f"video:{VIDEO}"]
    assert len(pages.requests) <= len(set(tokens)) + 1
    assert len(json.dumps(batch.cursor)) < 4096


def test_an_expired_page_token_restarts_from_the_top(api):
    pages = Pages(_video_pages())
    cursor = {"targets": {f"video:{VIDEO}": {
        "since": "2026-11-24T11:00:00Z", "ids": [],
        "pending": {"token": "stale", "top": "2026-11-24T11:50:00Z", "top_ids": [T1]}}}}
    expired = {"error": {"code": 400, "message": "The request specifies an invalid page token.",
                         "errors": [{"message": "The request specifies an invalid page token.",
                                     "domain": "youtube.parameter", "reason": "invalidPageToken",
                                     "location": "pageToken", "locationType": "parameter"}]}}
    api.expect_ordered_request(PATH, query_string={
        "part": "snippet,replies", "videoId": VIDEO, "order": "time", "maxResults": "100",
        "textFormat": "plainText", "key": KEY, "pageToken": "stale"},
    ).respond_with_response(_reply(expired, 400))
    api.expect_ordered_request(PATH).respond_with_handler(pages)
    batch = _fetch(cursor)
    assert [item.external_id for item in batch.items] == [T1, R2, R1, T2]
    assert batch.cursor["targets"][f"video:{VIDEO}"]["since"] == "2026-11-24T11:50:00Z"


# --- Google's error answers ---------------------------------------------------------


def test_quota_exceeded_waits_until_pacific_midnight(api):
    _serve(api, Pages({}, errors={VIDEO: (403, "error_quota_exceeded.json")}))
    error = _fails()
    assert not error.permanent
    # 12:00 UTC is 04:00 in California (PST, UTC-8): 20 hours to midnight there.
    assert error.retry_after == 20 * 3600 + 60
    assert "quota" in str(error) and "midnight Pacific time" in str(error)


def test_pacific_midnight_follows_daylight_saving():
    summer = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)  # 23:00 PDT (UTC-7)
    assert pacific_midnight_wait(summer) == 3600 + 60


def test_comments_disabled_skips_the_video_with_a_note(api, caplog):
    disabled = {OTHER: (403, "error_comments_disabled.json")}
    pages = _serve(api, Pages(_video_pages(), errors=disabled))
    config = {"api_key": KEY, "video_ids": [OTHER, VIDEO]}
    with caplog.at_level(logging.WARNING, logger="veilleur.connectors.youtube"):
        batch = _fetch(config=config)
    assert len(batch.items) == 6  # the other video is read as usual
    skipped = batch.cursor["targets"][f"video:{OTHER}"]["skipped"]
    assert skipped["code"] == "comments" and "disabled" in skipped["note"]
    assert skipped["until"] == "2026-11-25T12:00:00Z"
    assert any("disabled" in r.getMessage() and OTHER in r.getMessage() for r in caplog.records)
    # Within the day the skipped video costs no quota.
    pages.requests.clear()
    _fetch(batch.cursor, LATER, config)
    assert OTHER not in {r["videoId"] for r in pages.requests}
    # The day after it is tried again.
    pages.requests.clear()
    _fetch(batch.cursor, NOW + timedelta(days=1, minutes=1), config)
    assert OTHER in {r["videoId"] for r in pages.requests}


def test_comments_disabled_on_the_only_video_is_not_a_failure(api):
    _serve(api, Pages({}, errors={VIDEO: (403, "error_comments_disabled.json")}))
    batch = _fetch()
    assert batch.items == [] and not batch.more


def test_an_invalid_key_is_permanent(api):
    _serve(api, Pages({}, errors={VIDEO: (400, "error_key_invalid.json")}))
    error = _fails()
    assert error.permanent and "the API key is invalid" in str(error)


def test_an_invalid_key_in_google_s_newer_error_form(api):
    body = {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                      "errors": [{"message": "API key not valid. Please pass a valid API key.",
                                  "domain": "global", "reason": "badRequest"}],
                      "status": "INVALID_ARGUMENT",
                      "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                   "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                                   "metadata": {"service": "youtube.googleapis.com"}}]}}
    api.expect_request(PATH).respond_with_response(_reply(body, 400))
    assert "the API key is invalid" in str(_fails())


def test_a_missing_video_alone_is_permanent(api):
    _serve(api, Pages({}, errors={VIDEO: (404, "error_video_not_found.json")}))
    error = _fails()
    assert error.permanent and VIDEO in str(error)


def test_a_missing_video_among_others_is_skipped(api):
    _serve(api, Pages(_video_pages(), errors={OTHER: (404, "error_video_not_found.json")}))
    batch = _fetch(config={"api_key": KEY, "video_ids": [VIDEO, OTHER]})
    assert len(batch.items) == 6
    assert batch.cursor["targets"][f"video:{OTHER}"]["skipped"]["code"] == "missing"


def test_an_api_that_is_not_enabled_is_permanent_with_google_s_reason(api):
    body = {"error": {"code": 403, "message": "YouTube Data API v3 has not been used in project "
                      "123456 before or it is disabled.",
                      "errors": [{"message": "YouTube Data API v3 has not been used in project "
                                  "123456 before or it is disabled.",
                                  "domain": "usageLimits", "reason": "accessNotConfigured"}]}}
    api.expect_request(PATH).respond_with_response(_reply(body, 403))
    error = _fails()
    assert error.permanent and "accessNotConfigured" in str(error)
    assert "has not been used in project" in str(error)


@pytest.mark.parametrize(("status", "headers", "retry_after"), [
    (429, {"Retry-After": "120"}, 120),
    (500, {}, None),
    (503, {"Retry-After": "30"}, 30),
])
def test_transient_statuses(api, status, headers, retry_after):
    api.expect_request(PATH).respond_with_response(_reply(b"{}", status, headers))
    error = _fails()
    assert not error.permanent and error.retry_after == retry_after
    assert f"HTTP {status}" in str(error)


def test_a_rate_limit_reason_without_retry_after_waits_a_minute(api):
    body = {"error": {"code": 403, "message": "Rate limit exceeded.", "errors": [
        {"message": "Rate limit exceeded.", "domain": "youtube.quota",
         "reason": "rateLimitExceeded"}]}}
    api.expect_request(PATH).respond_with_response(_reply(body, 403))
    error = _fails()
    assert not error.permanent and error.retry_after == youtube.RATE_LIMIT_WAIT


def test_a_silent_peer_times_out(settings):
    settings.CONNECTOR_HTTP_TIMEOUT = 0.5
    with raw_peer(b"", hold=3) as url:
        settings.CONNECTOR_ENDPOINTS = {"youtube": url}
        error = _fails()
    assert "did not answer within 0.5 s" in str(error) and not error.permanent
    assert KEY not in str(error)


def test_a_truncated_body(settings):
    body = fixture_bytes("youtube", "threads_video_page1.json")
    with raw_peer(truncated_response(body[:900])) as url:
        settings.CONNECTOR_ENDPOINTS = {"youtube": url}
        error = _fails()
    assert "truncated" in str(error) and not error.permanent and KEY not in str(error)


@pytest.mark.parametrize(("body", "fragment"), [
    (b'{"kind": "youtube#commentThreadListResponse", "items": [', "malformed JSON"),
    (b'{"items": "none"}', "not a list of comment threads"),
    (b"[]", "not a list of comment threads"),
])
def test_malformed_bodies(api, body, fragment):
    api.expect_request(PATH).respond_with_response(_reply(body))
    error = _fails()
    assert fragment in str(error) and not error.permanent


def test_a_50_mb_body_with_a_length_is_refused(api):
    api.expect_request(PATH).respond_with_response(WerkzeugResponse(
        (b"x" * 65536 for _ in range(800)), content_type="application/json",
        headers={"Content-Length": str(800 * 65536)}))
    error = _fails()
    assert "over the 10 MB limit: not read" in str(error) and KEY not in str(error)


def test_a_50_mb_streamed_body_is_cut_at_the_limit(api):
    sent = []

    def chunks():
        for _ in range(800):
            sent.append(1)
            yield b"[" * 65536

    api.expect_request(PATH).respond_with_response(
        WerkzeugResponse(chunks(), content_type="application/json"))
    assert "more than the 10 MB limit" in str(_fails())
    assert len(sent) < 800


# --- the key never shows --------------------------------------------------------------


def test_the_key_never_appears_in_errors_logs_or_the_cursor(api, caplog):
    echo = {"error": {"code": 400, "message": f"Bad value for key={KEY} in "
                      f"https://www.googleapis.com/youtube/v3/commentThreads?key={KEY}",
                      "errors": [{"message": "Bad value", "domain": "global",
                                  "reason": "badRequest"}]}}
    api.expect_ordered_request(PATH).respond_with_response(_reply(echo, 400))
    with caplog.at_level(logging.DEBUG):
        error = _fails()
    assert error.permanent and "Bad value for key=[key]" in str(error)
    assert KEY not in str(error)
    # A skip note is logged; neither it nor anything else of ours carries the key.
    api.clear()
    _serve(api, Pages(_video_pages(), errors={OTHER: (403, "error_comments_disabled.json")}))
    with caplog.at_level(logging.DEBUG):
        batch = _fetch(config={"api_key": KEY, "video_ids": [VIDEO, OTHER]})
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug")]
    assert ours and not any(KEY in message for message in ours)
    assert KEY not in json.dumps(batch.cursor)


# --- settings -------------------------------------------------------------------------


def test_video_ids_from_addresses():
    assert video_id(VIDEO) == VIDEO
    for address in [f"https://www.youtube.com/watch?v={VIDEO}&t=42s",
                    f"youtube.com/watch?v={VIDEO}", f"https://youtu.be/{VIDEO}?si=abc",
                    f"https://m.youtube.com/shorts/{VIDEO}",
                    f"https://www.youtube.com/live/{VIDEO}"]:
        assert video_id(address) == VIDEO, address
    for bad in ["", "short", "https://vimeo.com/123456789", "https://www.youtube.com/@acme",
                f"https://evil.example/watch?v={VIDEO}"]:
        assert video_id(bad) is None, bad


def test_validate_config():
    connector = YouTubeConnector()
    assert connector.validate_config({
        "api_key": f" {KEY} ", "video_ids": f"https://youtu.be/{VIDEO}\n{VIDEO}\n{OTHER}",
    }) == {"api_key": KEY, "video_ids": [VIDEO, OTHER]}
    assert connector.validate_config({"api_key": KEY, "channel_id": CHANNEL}) == {
        "api_key": KEY, "channel_id": CHANNEL}
    for config, message in [
        ({"video_ids": [VIDEO]}, "api_key: required"),
        ({"api_key": "not a key", "video_ids": [VIDEO]}, "api_key: this does not look"),
        ({"api_key": KEY}, "video_ids: give at least one video, or a channel_id"),
        ({"api_key": KEY, "video_ids": ["nope"]}, "video_ids: 'nope' is not a YouTube video"),
        ({"api_key": KEY, "channel_id": "@acme"}, "channel_id: expected a channel ID"),
        ({"api_key": KEY, "video_ids": [f"{n:011d}" for n in range(51)]},
         "video_ids: at most 50 videos"),
        ({"api_key": KEY, "video_ids": [VIDEO], "oauth": "x"}, "oauth: unknown setting"),
    ]:
        with pytest.raises(ConfigInvalid, match=message):
            connector.validate_config(config)


# --- through the pipeline -------------------------------------------------------------


@pytest.mark.django_db
def test_a_poll_through_the_pipeline_stores_mentions(api, acme):
    from veilleur.monitoring.models import Health, Mention
    from veilleur.monitoring.pipeline import poll_source
    from veilleur.monitoring.sources import create_source

    pages = _serve(api, Pages(_video_pages()))
    source = create_source(acme, "youtube", "Launch video",
                           {"api_key": KEY, "video_ids": f"https://youtu.be/{VIDEO}"})
    assert KEY not in json.dumps(source.config)  # sealed at rest
    report = poll_source(source.pk, NOW)
    assert report.error == "" and report.stored == 6
    assert pages.requests[0]["key"] == KEY  # handed to the API in clear
    source.refresh_from_db()
    assert source.health == Health.OK
    assert KEY not in json.dumps(source.cursor)
    reply = Mention.objects.get(source=source, external_id=R1)
    assert reply.author.display_name == "@lea_martin" and reply.author.platform == "youtube"
    assert reply.author.handle.startswith("UC")
    assert reply.url == f"https://www.youtube.com/watch?v={VIDEO}&lc={R1}"
