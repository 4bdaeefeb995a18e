"""The Bluesky connector against recorded XRPC payloads served on loopback."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug import Request
from werkzeug import Response as WsgiResponse

from tests.connectors.peers import FiftyMegabytes, fixture_bytes, raw_peer, truncated_response
from tests.fakes import NOW
from veilleur.connectors.base import ConfigInvalid, SourceError
from veilleur.connectors.bluesky import MAX_PAGES, SESSION_INTERVAL, BlueskyConnector, post_url

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
SESSION = "/xrpc/com.atproto.server.createSession"
NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"
HANDLE = "nuvia.bsky.social"
APP_PASSWORD = "k2vd-7qxe-m4pa-w9tz"


def load(name: str):
    return json.loads(fixture_bytes("bluesky", name))


def base_url(httpserver) -> str:
    return httpserver.url_for("").rstrip("/")


def config(httpserver, *, login=False, **extra) -> dict:
    raw = {"query": "nuvia", "service": base_url(httpserver), **extra}
    if login:
        raw.update(handle=HANDLE, app_password=APP_PASSWORD)
    return BlueskyConnector().validate_config(raw)


def fetch(cfg, cursor=None):
    return BlueskyConnector().fetch(cfg, cursor, NOW)


def bearer() -> str:
    return "Bearer " + load("create_session.json")["accessJwt"]


def expect_login(httpserver):
    return httpserver.expect_request(
        SESSION, method="POST", json={"identifier": HANDLE, "password": APP_PASSWORD}
    ).respond_with_json(load("create_session.json"))


def make_posts(count: int, start: datetime) -> list[dict]:
    """``count`` posts, one a minute after ``start``, newest first."""
    template = load("search_posts.json")["posts"][0]
    posts = []
    for n in range(count):
        post = copy.deepcopy(template)
        when = (start + timedelta(minutes=n)).isoformat(timespec="milliseconds")
        when = when.replace("+00:00", "Z")
        post["uri"] = f"at://did:plc:4qv2n7mxl3kc5rbt7yq2hdzo/app.bsky.feed.post/3mfk{n:09d}"
        post["record"]["createdAt"] = post["indexedAt"] = when
        post["record"]["text"] = f"Avis numéro {n} sur Nuvia"
        posts.append(post)
    return posts[::-1]


# -- mapping -----------------------------------------------------------------------------


def test_logged_out_search_results_are_mapped(httpserver):
    httpserver.expect_request(
        SEARCH, method="GET", query_string={"q": "nuvia", "sort": "latest", "limit": "100"}
    ).respond_with_json(load("search_posts.json"))
    batch = fetch(config(httpserver))
    first, reply, anonymous = batch.items
    assert first.external_id == "at://did:plc:4qv2n7mxl3kc5rbt7yq2hdzo/app.bsky.feed.post/3mfkq2x7lcs2k"
    assert first.text == (
        "Troisième panne cette semaine chez Nuvia… impossible de payer mon abonnement depuis "
        "ce matin. #nuvia\n\n"
        "[image: Capture d'écran de l'appli Nuvia : « Erreur 503, réessayez plus tard ».]")
    assert first.url == "https://bsky.app/profile/camille.bsky.social/post/3mfkq2x7lcs2k"
    assert first.published_at == datetime(2026, 3, 1, 9, 41, 27, 512000, tzinfo=UTC)
    assert first.author_handle == "@camille.bsky.social"
    assert first.author_name == "Camille B. 🌿"
    assert first.author_url == "https://bsky.app/profile/camille.bsky.social"
    assert first.author_followers is None and first.author_verified is False
    assert first.lang_hint == "fr" and first.title == ""
    assert first.extra == {"item_type": "post", "score": 15, "likes": 12, "reposts": 3,
                           "replies": 2, "quotes": 1,
                           "author_did": "did:plc:4qv2n7mxl3kc5rbt7yq2hdzo"}
    assert reply.extra["item_type"] == "comment"
    assert reply.extra["parent_id"] == first.external_id
    assert reply.extra["thread_id"] == (
        "at://did:plc:n7vqa2k5x3m4c6rbt8yq2hdw/app.bsky.feed.post/3mfkoz4hbbk2a")
    assert reply.author_verified is True and reply.lang_hint == "en"
    # A handle that failed verification: the DID stands in for it.
    assert anonymous.author_handle == "@did:plc:ff3k2a7xq4m5bn6vc7l8dz9p"
    assert anonymous.url == (
        "https://bsky.app/profile/did:plc:ff3k2a7xq4m5bn6vc7l8dz9p/post/3mfkpe6dnvs2x")
    assert anonymous.lang_hint == ""
    # The newest "sortAt" seen: the earlier of createdAt and indexedAt of the newest post.
    assert batch.cursor == {"v": 1, "key": ["search", "nuvia", "", ""],
                            "mark": "2026-03-01T09:41:27.512Z"}
    assert batch.more is False and batch.hint.retry_after is None


def test_post_urls_need_a_post_uri():
    assert post_url("at://did:plc:x/app.bsky.feed.like/3abc", "a.b") == ""
    assert post_url("https://bsky.app/x", "a.b") == ""


# -- cursor ------------------------------------------------------------------------------


def test_logged_out_polls_ask_since_the_newest_time_and_never_page(httpserver):
    httpserver.expect_ordered_request(SEARCH, query_string={
        "q": "nuvia", "sort": "latest", "limit": "100"}).respond_with_json(
        load("search_posts.json"))
    httpserver.expect_ordered_request(SEARCH, query_string={
        "q": "nuvia", "sort": "latest", "limit": "100", "since": "2026-03-01T09:41:27.512Z",
    }).respond_with_json(load("search_posts_new.json"))
    httpserver.expect_ordered_request(SEARCH, query_string={
        "q": "nuvia", "sort": "latest", "limit": "100", "since": "2026-03-01T10:20:45.918Z",
    }).respond_with_json(load("search_posts_empty.json"))
    cfg = config(httpserver)
    first = fetch(cfg)
    second = fetch(cfg, first.cursor)  # the answer had a cursor: logged out, it is not used
    third = fetch(cfg, second.cursor)
    assert [i.external_id.rsplit("/", 1)[1] for i in second.items] == [
        "3mfksxq5lvc2o", "3mfks5wyrak2d"]
    assert second.cursor["mark"] == "2026-03-01T10:20:45.918Z"
    assert third.items == [] and third.cursor == second.cursor
    httpserver.check_assertions()


def test_a_changed_query_starts_afresh(httpserver):
    httpserver.expect_request(SEARCH, query_string={
        "q": "nuvia OR #nuvia", "sort": "latest", "limit": "100", "lang": "fr"}
    ).respond_with_json(load("search_posts_empty.json"))
    old = {"v": 1, "key": ["search", "nuvia", "", ""], "mark": "2026-03-01T09:41:27.512Z"}
    batch = fetch(config(httpserver, query="nuvia OR #nuvia", lang="FR"), old)
    assert batch.cursor == {"v": 1, "key": ["search", "nuvia OR #nuvia", "fr", ""],
                            "mark": None}


def test_the_default_service_is_the_public_appview(httpserver, settings):
    settings.CONNECTOR_ENDPOINTS = {"bluesky": base_url(httpserver)}
    httpserver.expect_request(SEARCH).respond_with_json(load("search_posts.json"))
    cfg = BlueskyConnector().validate_config({"query": "nuvia"})
    assert "service" not in cfg
    assert len(fetch(cfg).items) == 3


# -- logged in ---------------------------------------------------------------------------


def test_logged_in_search_opens_a_session_per_fetch_and_pages(httpserver):
    expect_login(httpserver)
    newer = load("search_posts_new.json")
    requests = []

    def search(request: Request) -> WsgiResponse:
        assert request.headers["Authorization"] == bearer()
        requests.append(request.args.to_dict())
        if "since" not in request.args:
            return WsgiResponse(fixture_bytes("bluesky", "search_posts.json"),
                                content_type="application/json")
        if "cursor" not in request.args:
            body = {"posts": newer["posts"][:1], "cursor": "1"}
        else:
            body = {"posts": newer["posts"][1:]}  # the last page has no cursor
        return WsgiResponse(json.dumps(body), content_type="application/json")

    httpserver.expect_request(SEARCH).respond_with_handler(search)
    cfg = config(httpserver, login=True)
    first = fetch(cfg)
    assert len(first.items) == 3 and len(requests) == 1  # a first poll: the newest page only
    assert first.hint.retry_after == SESSION_INTERVAL and first.more is False
    second = fetch(cfg, first.cursor)
    assert [r.get("cursor") for r in requests[1:]] == [None, "1"]
    assert all(r["since"] == "2026-03-01T09:41:27.512Z" for r in requests[1:])
    assert len(second.items) == 2
    assert second.cursor == {"v": 1, "key": ["search", "nuvia", "", HANDLE],
                             "mark": "2026-03-01T10:20:45.918Z"}
    sessions = [r for r, _ in httpserver.log if r.path == SESSION]
    assert len(sessions) == 2
    # No token is kept anywhere in the cursor.
    assert "eyJ" not in json.dumps(second.cursor) and APP_PASSWORD not in json.dumps(second.cursor)


def test_a_long_backlog_is_read_a_few_pages_per_fetch_and_resumed(httpserver):
    expect_login(httpserver)
    mark = "2026-03-01T06:00:00.000Z"
    posts = make_posts(700, datetime(2026, 3, 1, 6, 0, tzinfo=UTC))
    requests = []

    def search(request: Request) -> WsgiResponse:
        requests.append(request.args.to_dict())
        assert request.args["since"] == mark
        offset = int(request.args.get("cursor", "0"))
        page = posts[offset:offset + 100]
        body = {"posts": page}
        if offset + 100 < len(posts):
            body["cursor"] = str(offset + 100)
        return WsgiResponse(json.dumps(body), content_type="application/json")

    httpserver.expect_request(SEARCH).respond_with_handler(search)
    cfg = config(httpserver, login=True)
    cursor = {"v": 1, "key": ["search", "nuvia", "", HANDLE], "mark": mark}
    first = fetch(cfg, cursor)
    assert len(requests) == MAX_PAGES and len(first.items) == 500
    assert first.more is False  # each poll costs a login: the rest waits for the next poll
    assert first.cursor["mark"] == mark and first.cursor["page"] == "500"
    assert first.cursor["pending"] == posts[0]["indexedAt"]
    second = fetch(cfg, first.cursor)
    assert [r.get("cursor") for r in requests[MAX_PAGES:]] == ["500", "600"]
    assert len(second.items) == 200
    assert second.cursor == {"v": 1, "key": ["search", "nuvia", "", HANDLE],
                             "mark": posts[0]["indexedAt"]}
    seen = {i.external_id for i in first.items} | {i.external_id for i in second.items}
    assert len(seen) == 700


def test_duplicates_across_pages_and_a_repeating_cursor_end_the_walk(httpserver):
    expect_login(httpserver)
    page = load("search_posts.json")
    page["cursor"] = "25"
    httpserver.expect_request(SEARCH).respond_with_json(page)  # the same page, forever
    cursor = {"v": 1, "key": ["search", "nuvia", "", HANDLE], "mark": "2026-03-01T06:00:00.000Z"}
    batch = fetch(config(httpserver, login=True), cursor)
    searches = [r for r, _ in httpserver.log if r.path == SEARCH]
    assert len(searches) == 2  # the first page, then the cursor "25" that gives "25" again
    assert len(batch.items) == len({i.external_id for i in batch.items}) == 3
    assert "page" not in batch.cursor


@pytest.mark.parametrize("mode", ["search", "mentions"])
def test_an_oversized_page_cursor_is_not_kept(httpserver, mode):
    expect_login(httpserver)
    path, name = ((SEARCH, "search_posts.json") if mode == "search"
                  else (NOTIFICATIONS, "list_notifications.json"))
    answered: list[int] = []

    def pages(request: Request) -> WsgiResponse:
        # A new cursor every time, each the server's to size: ours would carry the last.
        page = load(name)
        page["cursor"] = f"{len(answered)}" + "c" * 5000
        answered.append(1)
        return WsgiResponse(json.dumps(page), content_type="application/json")

    httpserver.expect_request(path).respond_with_handler(pages)
    cursor = {"v": 1, "key": [mode, "nuvia" if mode == "search" else "", "", HANDLE],
              "mark": "2026-03-01T06:00:00.000Z"}
    cfg = config(httpserver, login=True, **({} if mode == "search" else
                                            {"mode": "mentions", "query": ""}))
    batch = fetch(cfg, cursor)
    assert batch.items and "page" not in batch.cursor and len(answered) == 1
    assert len(json.dumps(batch.cursor)) < 1000


def test_a_creation_time_with_an_offset_is_read_in_utc(httpserver):
    page = load("search_posts.json")
    page["posts"][0]["record"]["createdAt"] = "2026-03-01T10:41:27.512+01:00"
    httpserver.expect_request(SEARCH).respond_with_json(page)
    first = fetch(config(httpserver)).items[0]
    assert first.published_at == datetime(2026, 3, 1, 9, 41, 27, 512000, tzinfo=UTC)
    assert first.published_at.tzinfo is UTC


def test_mentions_replies_and_quotes_are_read_from_notifications(httpserver):
    expect_login(httpserver)
    requests = []

    def notifications(request: Request) -> WsgiResponse:
        assert request.headers["Authorization"] == bearer()
        requests.append(request.args)
        return WsgiResponse(fixture_bytes("bluesky", "list_notifications.json"),
                            content_type="application/json")

    httpserver.expect_request(NOTIFICATIONS).respond_with_handler(notifications)
    cfg = config(httpserver, login=True, mode="mentions", query="")
    batch = fetch(cfg)
    assert requests[0].getlist("reasons") == ["mention", "reply", "quote"]
    assert requests[0]["limit"] == "100" and "cursor" not in requests[0]
    assert [i.extra["reason"] for i in batch.items] == ["mention", "reply", "quote", "mention"]
    mention, reply, quote, _ = batch.items
    assert mention.text.startswith("@nuvia.bsky.social your payment page has been down")
    assert mention.author_handle == "@jordan.doe.dev" and mention.author_verified
    assert "score" not in mention.extra  # notifications carry no counts
    nuvia_post = "at://did:plc:n7vqa2k5x3m4c6rbt8yq2hdw/app.bsky.feed.post/3mfkoz4hbbk2a"
    assert reply.extra["parent_id"] == reply.extra["thread_id"] == nuvia_post
    assert quote.text == "This is how you handle an outage. Take notes, everyone."
    assert batch.cursor["mark"] == "2026-03-01T11:02:10.912Z"
    assert batch.hint.retry_after == SESSION_INTERVAL

    again = fetch(cfg, batch.cursor)
    # Everything on the page is as old as the mark or older: one request, no new mention.
    assert len(requests) == 2 and [i.external_id for i in again.items] == [mention.external_id]
    assert again.cursor["mark"] == batch.cursor["mark"]


def test_mentions_can_be_kept_to_one_language(httpserver):
    expect_login(httpserver)
    httpserver.expect_request(NOTIFICATIONS).respond_with_json(load("list_notifications.json"))
    batch = fetch(config(httpserver, login=True, mode="mentions", lang="fr"))
    assert [i.lang_hint for i in batch.items] == ["fr", "fr"]


# -- faults ------------------------------------------------------------------------------


def error(httpserver, path, name, status, **kw):
    httpserver.expect_request(path).respond_with_data(
        fixture_bytes("bluesky", name), status=status, content_type="application/json", **kw)


def test_a_wrong_app_password_is_permanent_and_never_echoed(httpserver):
    error(httpserver, SESSION, "error_authentication_required.json", 401)
    with pytest.raises(SourceError, match="check the handle and the app password") as caught:
        fetch(config(httpserver, login=True))
    assert caught.value.permanent
    assert "Invalid identifier or password" in str(caught.value)
    assert APP_PASSWORD not in str(caught.value)


def test_an_email_code_request_says_to_use_an_app_password(httpserver):
    error(httpserver, SESSION, "error_auth_factor.json", 401)
    with pytest.raises(SourceError, match="use an app password") as caught:
        fetch(config(httpserver, login=True))
    assert caught.value.permanent


def test_an_inactive_account_is_permanent(httpserver):
    session = load("create_session.json")
    session.update(active=False, status="takendown")
    httpserver.expect_request(SESSION).respond_with_json(session)
    with pytest.raises(SourceError, match="is takendown") as caught:
        fetch(config(httpserver, login=True))
    assert caught.value.permanent


def test_an_expired_token_is_permanent(httpserver):
    expect_login(httpserver)
    error(httpserver, SEARCH, "error_expired_token.json", 400)
    with pytest.raises(SourceError, match=r"ExpiredToken.*app password") as caught:
        fetch(config(httpserver, login=True))
    assert caught.value.permanent
    assert "eyJ" not in str(caught.value)


def test_a_bad_query_is_permanent_with_bluesky_s_message(httpserver):
    error(httpserver, SEARCH, "error_invalid_request.json", 400)
    with pytest.raises(SourceError) as caught:
        fetch(config(httpserver, query='"nuvia'))
    assert caught.value.permanent
    assert str(caught.value) == (
        "Bluesky refused the search query (InvalidRequest: Invalid query: unbalanced quotes)")


def test_logged_out_search_refused_says_to_add_an_app_password(httpserver):
    httpserver.expect_request(SEARCH).respond_with_data(
        fixture_bytes("bluesky", "forbidden_logged_out.txt"), status=403,
        content_type="text/plain")
    with pytest.raises(SourceError, match="add a handle and an app password") as caught:
        fetch(config(httpserver))
    assert caught.value.permanent and "q=" not in str(caught.value)


def test_a_service_without_the_method_is_permanent(httpserver):
    httpserver.expect_request(SEARCH).respond_with_json(
        {"error": "MethodNotImplemented", "message": "Method Not Implemented"}, status=501)
    # A PDS or AppView that does not implement the method will not start to on a retry.
    with pytest.raises(SourceError, match=r"MethodNotImplemented.*check the service") as caught:
        fetch(config(httpserver))
    assert caught.value.permanent
    httpserver.clear()
    httpserver.expect_request(SEARCH).respond_with_data("Not Found", status=404)
    with pytest.raises(SourceError, match="check the service address") as caught:
        fetch(config(httpserver))
    assert caught.value.permanent


def test_429_on_login_waits_for_the_rate_limit_reset(httpserver):
    reset = int(NOW.timestamp()) + 240
    error(httpserver, SESSION, "error_rate_limit.json", 429, headers={
        "RateLimit-Limit": "30", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset),
        "RateLimit-Policy": "30;w=300"})
    with pytest.raises(SourceError) as caught:
        fetch(config(httpserver, login=True))
    assert not caught.value.permanent and caught.value.retry_after == pytest.approx(240)


def test_429_with_retry_after_is_transient(httpserver):
    error(httpserver, SEARCH, "error_rate_limit.json", 429, headers={"Retry-After": "60"})
    with pytest.raises(SourceError) as caught:
        fetch(config(httpserver))
    assert not caught.value.permanent and caught.value.retry_after == 60


def test_a_spent_rate_limit_on_a_success_delays_the_next_poll(httpserver):
    reset = int(NOW.timestamp()) + 900
    httpserver.expect_request(SEARCH).respond_with_json(load("search_posts_empty.json"), headers={
        "RateLimit-Limit": "3000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)})
    assert fetch(config(httpserver)).hint.retry_after == pytest.approx(900)


def test_a_server_error_is_transient(httpserver):
    error(httpserver, SEARCH, "error_internal.json", 500)
    with pytest.raises(SourceError, match="server error") as caught:
        fetch(config(httpserver))
    assert not caught.value.permanent


def test_a_peer_that_never_answers_times_out(settings):
    settings.CONNECTOR_HTTP_TIMEOUT = 0.5
    with raw_peer(b"", hold=5) as url:
        cfg = BlueskyConnector().validate_config({"query": "nuvia", "service": url})
        with pytest.raises(SourceError, match="did not answer") as caught:
            fetch(cfg)
    assert not caught.value.permanent


def test_a_truncated_body_is_a_transient_error():
    with raw_peer(truncated_response(fixture_bytes("bluesky", "search_posts.json"))) as url:
        cfg = BlueskyConnector().validate_config({"query": "nuvia", "service": url})
        with pytest.raises(SourceError, match="broke off") as caught:
            fetch(cfg)
    assert not caught.value.permanent


def test_a_malformed_body_is_an_error(httpserver):
    httpserver.expect_request(SEARCH).respond_with_data(
        b'{"posts": [{"uri": "at://did:plc:x/app.bsky', content_type="application/json")
    with pytest.raises(SourceError, match="malformed JSON"):
        fetch(config(httpserver))


def test_a_body_of_the_wrong_shape_is_an_error(httpserver):
    httpserver.expect_request(SEARCH).respond_with_json({"posts": "none"})
    with pytest.raises(SourceError, match="no posts list"):
        fetch(config(httpserver))
    httpserver.clear()
    httpserver.expect_request(SEARCH).respond_with_json(["not", "an", "object"])
    with pytest.raises(SourceError, match="expected a JSON object"):
        fetch(config(httpserver))


@pytest.mark.parametrize("declare_length", [False, True])
def test_a_50_mb_body_is_refused_unread(httpserver, declare_length):
    body = FiftyMegabytes(declare_length=declare_length)
    httpserver.expect_request(SEARCH).respond_with_response(body.response())
    with pytest.raises(SourceError, match="limit"):
        fetch(config(httpserver))
    assert body.sent < 20


# -- configuration -----------------------------------------------------------------------


def test_validate_config_cleans_values():
    clean = BlueskyConnector().validate_config({
        "query": " nuvia ", "handle": "@Nuvia.bsky.social", "app_password": APP_PASSWORD,
        "lang": "FR", "service": "https://PDS.example.org/"})
    assert clean == {"query": "nuvia", "mode": "search", "handle": "nuvia.bsky.social",
                     "app_password": APP_PASSWORD, "lang": "fr",
                     "service": "https://pds.example.org"}


@pytest.mark.parametrize(("raw", "message"), [
    ({}, "query: required in search mode"),
    ({"query": "x" * 501}, "query: at most 500"),
    ({"query": "nuvia", "handle": HANDLE, "app_password": "my-main-password"},
     "app_password: expected an app password"),
    ({"query": "nuvia", "handle": HANDLE}, "give both handle and app_password"),
    ({"query": "nuvia", "app_password": APP_PASSWORD}, "give both handle and app_password"),
    ({"mode": "mentions"}, "reading mentions needs the account's handle and an app password"),
    ({"query": "nuvia", "handle": "nu via"}, "is not a Bluesky handle"),
    ({"query": "nuvia", "service": "https://bsky.social/xrpc"}, "server's address only"),
    ({"query": "nuvia", "service": "https://public.api.bsky.app", "handle": HANDLE,
      "app_password": APP_PASSWORD}, "cannot log in"),
    ({"query": "nuvia", "service": "http://pds.example.org", "handle": HANDLE,
      "app_password": APP_PASSWORD}, "unencrypted"),
    ({"query": "nuvia", "lang": "french"}, "lang: expected a language code"),
    ({"query": "nuvia", "mode": "feed"}, "mode: expected one of search, mentions"),
    ({"query": "nuvia", "password": "x"}, "password: unknown setting"),
])
def test_validate_config_errors(raw, message):
    with pytest.raises(ConfigInvalid, match=message):
        BlueskyConnector().validate_config(raw)


# -- through the pipeline ----------------------------------------------------------------


@pytest.mark.django_db
def test_search_results_are_stored_through_the_pipeline(httpserver, acme):
    from veilleur.monitoring.models import Mention
    from veilleur.monitoring.pipeline import poll_source
    from veilleur.monitoring.sources import create_source

    expect_login(httpserver)
    httpserver.expect_request(SEARCH, headers={"Authorization": bearer()}).respond_with_json(
        load("search_posts.json"))
    source = create_source(acme, "bluesky", "Nuvia on Bluesky", {
        "query": "nuvia", "service": base_url(httpserver), "handle": HANDLE,
        "app_password": APP_PASSWORD}, poll_interval=60)
    assert source.config["app_password"].startswith("enc:v1:")  # sealed at rest
    report = poll_source(source.pk, NOW)
    assert (report.error, report.stored) == ("", 3)
    mention = Mention.objects.get(
        source=source,
        external_id="at://did:plc:u6lx2ygk3wzd4fcm5nq7sjra/app.bsky.feed.post/3mfkpw3r2te2c")
    assert mention.author.handle == "@jordan.doe.dev" and mention.author.verified
    assert mention.author.platform == "bluesky" and mention.author.followers is None
    assert mention.lang == "en" and mention.url.startswith("https://bsky.app/profile/")
    assert mention.extra["parent_id"].endswith("/3mfkq2x7lcs2k")
    source.refresh_from_db()
    assert source.cursor["mark"] == "2026-03-01T09:41:27.512Z"
    # A 60 s interval is stretched to the login interval: createSession is rate limited.
    assert source.next_poll_at == NOW + timedelta(seconds=SESSION_INTERVAL)
