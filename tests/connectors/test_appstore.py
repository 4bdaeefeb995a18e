"""The App Store reviews connector against recorded feed pages served on loopback."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer

from tests.connectors.peers import FiftyMegabytes, fixture_bytes, raw_peer, truncated_response
from veilleur.connectors import appstore
from veilleur.connectors.appstore import AppStoreConnector
from veilleur.connectors.base import ConfigInvalid, SourceError

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
APP = "1234567890"
CONNECTOR = AppStoreConnector()


def page_path(country: str, page: int, app: str = APP) -> str:
    return f"/{country}/rss/customerreviews/page={page}/id={app}/sortby=mostrecent/json"


def recorded(name: str) -> bytes:
    return fixture_bytes("appstore", name)


@pytest.fixture
def apple(httpserver: HTTPServer, settings) -> HTTPServer:
    settings.CONNECTOR_ENDPOINTS = {"appstore": httpserver.url_for("").rstrip("/")}
    return httpserver


def serve(server: HTTPServer, country: str, page: int, body: bytes, **kwargs) -> None:
    server.expect_request(page_path(country, page)).respond_with_data(
        body, content_type="application/json", **kwargs)


def config(**overrides) -> dict:
    return CONNECTOR.validate_config({"app_id": APP, **overrides})


def fetch(cursor=None, **overrides):
    return CONNECTOR.fetch(config(**overrides), cursor, NOW)


def requested(server: HTTPServer) -> list[str]:
    return [request.path for request, _response in server.log]


def fails(cursor=None, **overrides) -> SourceError:
    with pytest.raises(SourceError) as caught:
        fetch(cursor, **overrides)
    return caught.value


# --- mapping and paging -------------------------------------------------------------


def test_a_recorded_feed_is_mapped(apple):
    serve(apple, "fr", 1, recorded("fr_page1.json"))
    serve(apple, "fr", 2, recorded("fr_page2.json"))
    batch = fetch()
    # The app's own entry (no rating) is skipped; two pages of reviews are read.
    assert [item.external_id for item in batch.items] == [
        "11203345678", "11203291234", "11203177777", "11202988888", "11202911111"]
    first = batch.items[0]
    assert first.title == "Impossible de me connecter"
    assert first.text.startswith("Depuis la mise à jour 4.12 l’appli plante")
    assert first.published_at == datetime(2026, 11, 24, 9, 58, 10, tzinfo=UTC)
    assert first.author_name == first.author_handle == "Claire_L"
    assert first.author_url == "https://itunes.apple.com/fr/reviews/id98001"
    assert first.url == f"https://apps.apple.com/fr/app/id{APP}?see-all=reviews"
    assert first.lang_hint == "fr"
    assert first.extra == {
        "item_type": "review", "rating": 1, "country": "fr", "app_version": "4.12.0",
        "vote_count": 4, "score": 3}
    assert "\n" in batch.items[1].text  # line breaks of the review are kept
    assert not batch.more
    shop = batch.cursor["countries"]["fr"]
    assert shop["seen"][:2] == ["11203345678", "11203291234"] and len(shop["seen"]) == 5
    assert shop["newest"] == "2026-11-24T09:58:10+00:00" and "resume" not in shop


def test_a_review_without_a_date_is_dated_now_and_flagged(apple):
    serve(apple, "fr", 1, recorded("fr_page1.json"))
    serve(apple, "fr", 2, recorded("fr_page2.json"))
    undated = fetch().items[-1]
    assert undated.external_id == "11202911111"
    assert undated.published_at == NOW and undated.extra["date_estimated"] is True
    assert "date_estimated" not in fetch().items[0].extra


def test_a_second_poll_returns_only_new_reviews(apple):
    serve(apple, "fr", 1, recorded("fr_page1.json"))
    serve(apple, "fr", 2, recorded("fr_page2.json"))
    first = fetch()
    apple.clear()
    serve(apple, "fr", 1, recorded("fr_page1_later.json"))
    second = fetch(first.cursor)
    assert [item.external_id for item in second.items] == ["11203499999"]
    assert second.cursor["countries"]["fr"]["seen"][0] == "11203499999"
    assert second.cursor["countries"]["fr"]["newest"] == "2026-11-24T17:05:12+00:00"


def test_paging_stops_at_the_first_page_with_nothing_new(apple):
    serve(apple, "fr", 1, recorded("fr_page1.json"))
    serve(apple, "fr", 2, recorded("fr_page2.json"))
    first = fetch()
    apple.clear()
    serve(apple, "fr", 1, recorded("fr_page1.json"))
    serve(apple, "fr", 2, recorded("fr_page2.json"))
    again = fetch(first.cursor)
    assert again.items == [] and not again.more
    assert requested(apple) == [page_path("fr", 1)]  # page 2 was not asked for


def test_max_pages_bounds_how_far_back(apple):
    serve(apple, "fr", 1, recorded("fr_page1.json"))
    batch = fetch(max_pages=1)
    assert len(batch.items) == 3 and requested(apple) == [page_path("fr", 1)]


def test_duplicated_reviews_across_pages_are_returned_once(apple):
    page1 = json.loads(recorded("fr_page1.json"))
    page2 = json.loads(recorded("fr_page2.json"))
    page2["feed"]["entry"].insert(0, page1["feed"]["entry"][1])  # shifted by a new review
    serve(apple, "fr", 1, json.dumps(page1).encode())
    serve(apple, "fr", 2, json.dumps(page2).encode())
    ids = [item.external_id for item in fetch().items]
    assert len(ids) == len(set(ids)) == 5


def test_a_backlog_is_read_over_several_polls(apple, monkeypatch):
    monkeypatch.setattr(appstore, "PAGES_PER_FETCH", 1)
    serve(apple, "fr", 1, recorded("fr_page1.json"))
    serve(apple, "fr", 2, recorded("fr_page2.json"))
    first = fetch()
    assert len(first.items) == 3 and first.more
    assert first.cursor["countries"]["fr"]["resume"] == 2
    second = fetch(first.cursor)
    assert [item.external_id for item in second.items] == ["11202988888", "11202911111"]
    assert not second.more and "resume" not in second.cursor["countries"]["fr"]
    assert requested(apple) == [page_path("fr", 1), page_path("fr", 2)]


def test_several_countries_single_entry_and_language_hints(apple):
    serve(apple, "fr", 1, recorded("fr_page1_later.json"))
    serve(apple, "us", 1, recorded("us_single.json"))
    serve(apple, "be", 1, recorded("empty.json"))
    batch = fetch(countries="fr\nUS\nbe\nfr")
    assert batch.cursor["countries"].keys() == {"fr", "us", "be"}
    english = [item for item in batch.items if item.extra["country"] == "us"]
    assert len(english) == 1  # "entry" was one object, not a list
    review = english[0]
    assert review.title == "Crashes on launch" and review.lang_hint == "en"
    assert review.url == f"https://apps.apple.com/us/app/id{APP}?see-all=reviews"
    assert review.extra["rating"] == 2
    assert len(batch.items) == 7 and not batch.more


def test_an_ambiguous_country_gives_no_language_hint(apple):
    serve(apple, "be", 1, recorded("fr_page1_later.json"))
    items = fetch(countries=["be"]).items
    assert items and all(item.lang_hint == "" for item in items)


def test_the_page_budget_is_shared_across_countries_in_turn(apple, monkeypatch):
    monkeypatch.setattr(appstore, "PAGES_PER_FETCH", 1)
    serve(apple, "fr", 1, recorded("fr_page1_later.json"))
    serve(apple, "us", 1, recorded("us_single.json"))
    first = fetch(countries=["fr", "us"])
    assert {item.extra["country"] for item in first.items} == {"fr"} and first.more
    assert first.cursor["turn"] == 1
    second = fetch(first.cursor, countries=["fr", "us"])
    assert {item.extra["country"] for item in second.items} == {"us"}
    assert not second.more and second.cursor["turn"] == 0


@pytest.mark.parametrize("body", [
    b"", b"{}", b'{"feed": ""}', json.dumps({"feed": {"author": {}}}).encode()])
def test_an_empty_feed_is_an_empty_batch(apple, body):
    serve(apple, "fr", 1, body)
    batch = fetch()
    assert batch.items == [] and not batch.more
    assert batch.cursor["countries"]["fr"]["seen"] == []


def test_the_recorded_empty_feed(apple):
    serve(apple, "fr", 1, recorded("empty.json"))
    assert fetch().items == []


def test_a_feed_holding_only_the_app_entry_is_empty(apple):
    # Old feeds led with an entry describing the app; alone, it is an object.
    feed = json.loads(recorded("fr_page1.json"))
    feed["feed"]["entry"] = feed["feed"]["entry"][0]
    assert "im:rating" not in feed["feed"]["entry"]
    serve(apple, "fr", 1, json.dumps(feed).encode())
    assert fetch().items == []


def test_a_cursor_of_another_app_is_not_reused(apple):
    serve(apple, "fr", 1, recorded("fr_page1_later.json"))
    stale = {"v": 1, "app_id": "999", "turn": 0,
             "countries": {"fr": {"seen": ["11203499999"], "newest": None}}}
    batch = fetch(stale)
    assert len(batch.items) == 6 and batch.cursor["app_id"] == APP


def test_the_feed_answers_are_html_free_and_entries_may_be_odd(apple):
    feed = json.loads(recorded("us_single.json"))
    entry = feed["feed"]["entry"]
    entry["content"] = [
        {"label": "<p>Great <b>app</b></p>", "attributes": {"type": "html"}}]
    odd = {"id": {"label": "55"}, "im:rating": {"label": "five"}}  # unreadable rating
    feed["feed"]["entry"] = [entry, odd, "junk"]
    serve(apple, "us", 1, json.dumps(feed).encode())
    items = fetch(countries=["us"]).items
    assert [item.text for item in items] == ["Great app"]


# --- faults ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_refused_access_is_permanent(apple, status):
    serve(apple, "fr", 1, b'{"error": "forbidden"}', status=status)
    error = fails()
    assert error.permanent and f"HTTP {status}" in str(error)


def test_an_unknown_app_is_permanent_and_says_so(apple):
    serve(apple, "fr", 1, b"", status=404)
    error = fails()
    assert error.permanent and APP in str(error) and "'fr'" in str(error)


@pytest.mark.parametrize("status", [429, 502])
def test_rate_limits_and_bad_gateways_are_transient(apple, status):
    serve(apple, "fr", 1, b"", status=status, headers={"Retry-After": "120"})
    error = fails()
    assert not error.permanent and error.retry_after == 120


def test_a_server_error_is_transient(apple):
    serve(apple, "fr", 1, b"<html>oops</html>", status=500)
    error = fails()
    assert not error.permanent and "HTTP 500" in str(error)


def test_a_failing_country_keeps_what_others_gave(apple):
    serve(apple, "fr", 1, recorded("fr_page1_later.json"))
    serve(apple, "us", 1, b"", status=429, headers={"Retry-After": "300"})
    batch = fetch(countries=["fr", "us"])
    assert len(batch.items) == 6 and batch.hint.retry_after == 300 and not batch.more
    assert batch.cursor["turn"] == 1  # the next poll starts with the country that failed


def test_a_failing_page_is_resumed_next_time(apple):
    serve(apple, "fr", 1, recorded("fr_page1.json"))
    serve(apple, "fr", 2, b"", status=503)
    first = fetch()
    assert len(first.items) == 3
    assert first.cursor["countries"]["fr"]["resume"] == 2
    apple.clear()
    serve(apple, "fr", 2, recorded("fr_page2.json"))
    second = fetch(first.cursor)
    assert [item.external_id for item in second.items] == ["11202988888", "11202911111"]
    assert requested(apple) == [page_path("fr", 2)]


def test_a_silent_peer_times_out(settings):
    settings.CONNECTOR_HTTP_TIMEOUT = 0.5
    with raw_peer(b"", hold=3) as url:
        settings.CONNECTOR_ENDPOINTS = {"appstore": url}
        error = fails()
    assert "did not answer within 0.5 s" in str(error) and not error.permanent


def test_a_truncated_body_is_transient(settings):
    with raw_peer(truncated_response(recorded("fr_page1.json"))) as url:
        settings.CONNECTOR_ENDPOINTS = {"appstore": url}
        error = fails()
    assert "truncated" in str(error) and not error.permanent


@pytest.mark.parametrize("body", [b'{"feed": {"entry": [', b"<html>Maintenance</html>"])
def test_a_malformed_body_is_transient(apple, body):
    serve(apple, "fr", 1, body)
    error = fails()
    assert "malformed JSON" in str(error) and not error.permanent


@pytest.mark.parametrize("body", [b"[1, 2]", b'{"feed": [1]}', b'"feed"'])
def test_json_of_another_shape_is_an_error(apple, body):
    serve(apple, "fr", 1, body)
    assert "unexpected shape" in str(fails())


@pytest.mark.parametrize("declare_length", [False, True])
def test_a_50_mb_body_is_refused_unread(apple, declare_length):
    body = FiftyMegabytes(declare_length=declare_length)
    apple.expect_request(page_path("fr", 1)).respond_with_response(body.response())
    error = fails()
    assert "limit" in str(error) and not error.permanent
    assert body.sent < 20  # stopped long before the end


# --- settings ------------------------------------------------------------------------


def test_config_defaults_and_an_app_store_link():
    assert config() == {"app_id": APP, "countries": ["fr"], "max_pages": 10}
    linked = CONNECTOR.validate_config(
        {"app_id": "https://apps.apple.com/gb/app/nuvia-banque-mobile/id1234567890?l=fr"})
    assert linked["app_id"] == APP and linked["countries"] == ["gb"]
    # Countries given explicitly win over the link's.
    both = CONNECTOR.validate_config(
        {"app_id": f"https://apps.apple.com/gb/app/x/id{APP}", "countries": "fr\nbe"})
    assert both["countries"] == ["fr", "be"]
    assert CONNECTOR.validate_config({"app_id": f"id{APP}", "max_pages": "3"})["max_pages"] == 3
    assert CONNECTOR.validate_config(
        {"app_id": f"https://itunes.apple.com/app/id{APP}"})["countries"] == ["fr"]


@pytest.mark.parametrize(("config_", "message"), [
    ({}, "app_id: required"),
    ({"app_id": "nuvia"}, "app_id: expected the app's numeric id"),
    ({"app_id": "https://play.google.com/store/apps/details?id=id123"}, "app_id:"),
    ({"app_id": "https://apps.apple.com/fr/app/nuvia"}, "app_id:"),
    ({"app_id": APP, "countries": "uk"}, "countries: the United Kingdom's"),
    ({"app_id": APP, "countries": "france"}, "countries: 'france' is not"),
    ({"app_id": APP, "countries": "\n".join(f"a{c}" for c in "abcdefghijklmnopqrstuvwxyz")
      + "\nba\nbb\nbc\nbd\nbe"}, "countries: at most 30"),
    ({"app_id": APP, "max_pages": 0}, "max_pages: expected a whole number from 1 to 10"),
    ({"app_id": APP, "max_pages": "11"}, "max_pages:"),
    ({"app_id": APP, "max_pages": "many"}, "max_pages:"),
    ({"app_id": APP, "country": "fr"}, "country: unknown setting"),
])
def test_config_errors(config_, message):
    with pytest.raises(ConfigInvalid, match=message.replace("(", r"\(")):
        CONNECTOR.validate_config(config_)


def test_a_broken_stored_config_is_a_permanent_error():
    with pytest.raises(SourceError) as caught:
        CONNECTOR.fetch({"app_id": "not an id"}, None, NOW)
    assert caught.value.permanent and "app_id" in str(caught.value)


# --- through the pipeline -----------------------------------------------------------


@pytest.mark.django_db
def test_reviews_are_stored_through_the_pipeline(apple, acme):
    from veilleur.monitoring.models import Mention
    from veilleur.monitoring.pipeline import poll_source
    from veilleur.monitoring.sources import create_source

    serve(apple, "fr", 1, recorded("fr_page1.json"))
    serve(apple, "fr", 2, recorded("fr_page2.json"))
    source = create_source(acme, "appstore", "Nuvia iOS",
                           {"app_id": f"https://apps.apple.com/fr/app/nuvia/id{APP}"})
    report = poll_source(source.pk, NOW)
    assert report.error == "" and report.stored == 5
    mention = Mention.objects.get(source=source, external_id="11203345678")
    assert mention.extra["rating"] == 1 and mention.title == "Impossible de me connecter"
    assert mention.author.handle == "Claire_L" and mention.author.platform == "appstore"
    again = poll_source(source.pk, NOW)
    assert again.stored == 0 and again.error == ""
