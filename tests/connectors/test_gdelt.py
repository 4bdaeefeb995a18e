"""The GDELT connector against recorded DOC 2.0 answers served on loopback."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request
from werkzeug import Response as WerkzeugResponse

from tests.connectors.peers import fixture_bytes, raw_peer, truncated_response
from veilleur.connectors import gdelt
from veilleur.connectors.base import ConfigInvalid, SourceError
from veilleur.connectors.gdelt import GdeltConnector, gdelt_query
from veilleur.connectors.registry import get_connector

NOW = datetime(2026, 11, 24, 12, 5, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 12, 20, tzinfo=UTC)
PATH = "/doc/doc"
CONFIG = {"query": "\"acme cloud\""}
LEMONDE = ("https://www.lemonde.fr/economie/article/2026/11/24/acme-cloud-la-panne-geante-"
           "qui-a-prive-des-milliers-d-entreprises-de-leurs-donnees_6541234_3234.html")
GUARDIAN = "https://www.theguardian.com/technology/2026/nov/24/acme-cloud-outage-small-businesses"


@pytest.fixture(autouse=True)
def no_spacing(monkeypatch):
    # The 5 s spacing between requests has its own test; the others need no waiting.
    monkeypatch.setattr(gdelt, "MIN_SPACING", 0.0)


@pytest.fixture
def api(httpserver: HTTPServer, settings) -> HTTPServer:
    settings.CONNECTOR_ENDPOINTS = {"gdelt": httpserver.url_for("/").rstrip("/")}
    return httpserver


def _serve(server: HTTPServer, name: str, content_type: str = "application/json") -> None:
    server.expect_request(PATH).respond_with_data(fixture_bytes("gdelt", name),
                                                  content_type=content_type)


def _fetch(cursor=None, now=NOW, config=CONFIG):
    return GdeltConnector().fetch(config, cursor, now)


def _fails(cursor=None) -> SourceError:
    with pytest.raises(SourceError) as caught:
        _fetch(cursor)
    return caught.value


# --- mapping and cursor ---------------------------------------------------------------


def test_the_registry_knows_the_kind():
    assert isinstance(get_connector("gdelt"), GdeltConnector)


def test_a_recorded_article_list_maps_every_field(api):
    _serve(api, "artlist.json")
    batch = _fetch()
    args = api.log[0][0].args
    assert args["query"] == "\"acme cloud\""
    assert (args["mode"], args["format"], args["maxrecords"], args["sort"]) == (
        "artlist", "json", "250", "datedesc")
    assert args["startdatetime"] == "20261123120500" and "enddatetime" not in args

    items = {item.external_id: item for item in batch.items}
    assert len(batch.items) == 5  # the URL GDELT listed twice comes once
    article = items[LEMONDE]
    assert article.title == article.text == (
        "Acme Cloud : la panne géante qui a privé des milliers d ' entreprises de leurs "
        "données")
    assert article.url == LEMONDE
    assert article.published_at == datetime(2026, 11, 24, 11, 30, tzinfo=UTC)
    assert article.author_handle == article.author_name == "lemonde.fr"
    assert article.author_url == "https://lemonde.fr/"
    assert article.lang_hint == "fr"
    assert article.extra == {"item_type": "article", "site": "lemonde.fr",
                             "country": "France", "language": "French"}
    assert items[GUARDIAN].lang_hint == "en"
    assert items[GUARDIAN].extra["country"] == "United Kingdom"
    german = next(i for i in batch.items if i.author_handle == "heise.de")
    assert german.lang_hint == "de"

    assert batch.cursor == {"since": "20261124T113000Z",
                            "seen": sorted([gdelt._digest(LEMONDE), gdelt._digest(GUARDIAN)])}
    assert batch.more is False
    assert batch.hint.retry_after == gdelt.MIN_POLL_SECONDS


def test_a_second_poll_returns_only_new_articles(api):
    _serve(api, "artlist.json")
    first = _fetch()
    api.clear()
    _serve(api, "artlist_next.json")
    second = _fetch(first.cursor, LATER)
    assert api.log[0][0].args["startdatetime"] == "20261124113000"
    assert [item.title for item in second.items] == [
        "Acme Cloud : le service rétabli après une panne de deux heures"]
    assert second.cursor["since"] == "20261124T120000Z" and len(second.cursor["seen"]) == 1


def test_an_empty_result_is_an_empty_object(api):
    _serve(api, "empty.json")
    cursor = {"since": "20261124T120000Z", "seen": ["abc"]}
    batch = _fetch(cursor, LATER)
    assert batch.items == [] and batch.cursor == cursor and not batch.more


def test_a_cursor_older_than_the_window_is_brought_inside_it(api):
    _serve(api, "empty.json")
    _fetch({"since": "20260301T000000Z", "seen": []})
    start = datetime.strptime(api.log[0][0].args["startdatetime"], "%Y%m%d%H%M%S")
    assert start.replace(tzinfo=UTC) == NOW - timedelta(days=89)


def test_languages_and_country_become_gdelt_operators(api):
    config = GdeltConnector().validate_config(
        {"query": "acme OR globex", "languages": "fr\nGerman", "country": "United Kingdom"})
    assert config["languages"] == ["french", "german"]
    assert gdelt_query(config) == (
        "(acme OR globex) (sourcelang:french OR sourcelang:german) "
        "sourcecountry:unitedkingdom")
    assert gdelt_query({"query": "(acme OR globex) cloud", "languages": ["english"]}) == (
        "(acme OR globex) cloud sourcelang:english")
    _serve(api, "empty.json")
    _fetch(config=config)
    assert api.log[0][0].args["query"] == gdelt_query(config)


# --- draining a backlog through a fake index ------------------------------------------


def _article(n: int, seen: datetime) -> dict:
    return {"url": f"https://news{n % 7}.example/acme/{n}", "url_mobile": "",
            "title": f"Acme Cloud article {n}", "seendate": seen.strftime("%Y%m%dT%H%M%SZ"),
            "socialimage": "", "domain": f"news{n % 7}.example", "language": "English",
            "sourcecountry": "United States"}


class FakeDoc:
    """artlist over a fixed list: start/end filters, newest first, 250 at most."""

    def __init__(self, articles: list[dict]) -> None:
        self.articles = sorted(articles, key=lambda a: a["seendate"], reverse=True)
        self.requests: list[dict] = []

    def __call__(self, request: Request) -> WerkzeugResponse:
        args = dict(request.args)
        self.requests.append(args)
        start = args["startdatetime"]
        end = args.get("enddatetime", "99999999999999")
        chosen = [a for a in self.articles
                  if start <= a["seendate"].replace("T", "").rstrip("Z") <= end][:250]
        body = {"articles": chosen} if chosen else {}
        return WerkzeugResponse(json.dumps(body), content_type="application/json")


def _drain(server, fake, cursor, limit=20):
    server.expect_request(PATH).respond_with_handler(fake)
    urls: list[str] = []
    for count in range(1, limit + 1):
        batch = _fetch(cursor)
        urls.extend(item.url for item in batch.items)
        cursor = batch.cursor
        if not batch.more:
            return count, urls, cursor
    raise AssertionError("the connector never finished draining")


def test_a_full_page_starts_a_drain_that_reads_everything(api):
    base = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    articles = [_article(n, base + timedelta(minutes=15 * (n // 20))) for n in range(600)]
    fake = FakeDoc(articles)
    fetches, urls, cursor = _drain(api, fake, {"since": "20261124T000000Z", "seen": []})
    assert fetches == 3
    assert set(urls) == {a["url"] for a in articles}
    assert "enddatetime" not in fake.requests[0] and "enddatetime" in fake.requests[1]
    assert cursor["since"] == fake.articles[0]["seendate"] and "drain" not in cursor


def test_a_full_page_from_one_seendate_cannot_loop(api):
    stamp = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    articles = [_article(n, stamp) for n in range(300)]
    articles += [_article(1000 + n, stamp - timedelta(minutes=15)) for n in range(10)]
    fetches, urls, cursor = _drain(api, FakeDoc(articles),
                                   {"since": "20261124T000000Z", "seen": []})
    # GDELT cannot page inside one seendate: 250 of its 300 articles, then the older ones.
    assert fetches == 2 and len(set(urls)) == 260
    assert cursor["since"] == "20261124T110000Z"


class IgnoresEnd(FakeDoc):
    """An index that answers the newest 250 whatever ``enddatetime`` says."""

    def __call__(self, request: Request) -> WerkzeugResponse:
        self.requests.append(dict(request.args))
        start = request.args["startdatetime"]
        chosen = [a for a in self.articles
                  if start <= a["seendate"].replace("T", "").rstrip("Z")][:250]
        return WerkzeugResponse(json.dumps({"articles": chosen}),
                                content_type="application/json")


def test_an_answer_that_ignores_the_end_date_cannot_drain_for_ever(api):
    base = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    articles = [_article(n, base + timedelta(minutes=15 * (n // 20))) for n in range(600)]
    fake = IgnoresEnd(articles)
    # Before, the same page came back with the same narrowed end date, ``more`` set.
    fetches, urls, cursor = _drain(api, fake, {"since": "20261124T000000Z", "seen": []})
    assert fetches == 2 and len(set(urls)) == 250
    assert cursor["since"] == fake.articles[0]["seendate"] and "drain" not in cursor


# --- GDELT's plain-text errors and HTTP faults ----------------------------------------


@pytest.mark.parametrize(("name", "fragment"), [
    ("error_too_short.txt", "keyword that was too short"),
    ("error_invalid_query.txt", "Parentheses may only be used around OR'd statements"),
])
def test_plain_text_refusals_are_permanent_with_gdelt_s_words(api, name, fragment):
    _serve(api, name, content_type="text/html; charset=utf-8")
    error = _fails()
    assert error.permanent and fragment in str(error)
    assert str(error).startswith("GDELT refused the query: ")


def test_a_plain_text_rate_limit_notice_is_transient(api):
    _serve(api, "error_rate_limit.txt", content_type="text/html")
    error = _fails()
    assert not error.permanent and error.retry_after == gdelt.RATE_LIMIT_WAIT


@pytest.mark.parametrize(("status", "headers", "permanent", "retry_after"), [
    (403, {}, True, None),
    (404, {}, True, None),
    (429, {"Retry-After": "120"}, False, 120),
    (500, {}, False, None),
])
def test_error_statuses(api, status, headers, permanent, retry_after):
    api.expect_request(PATH).respond_with_data(
        fixture_bytes("gdelt", "error_rate_limit.txt"), status=status, headers=headers)
    error = _fails()
    assert error.permanent is permanent and error.retry_after == retry_after
    assert f"HTTP {status}" in str(error)


def test_a_silent_peer_times_out(settings):
    settings.CONNECTOR_HTTP_TIMEOUT = 0.5
    with raw_peer(b"", hold=3) as url:
        settings.CONNECTOR_ENDPOINTS = {"gdelt": url}
        error = _fails()
    assert "did not answer within 0.5 s" in str(error) and not error.permanent


def test_a_truncated_body(settings):
    body = fixture_bytes("gdelt", "artlist.json")
    with raw_peer(truncated_response(body[:700])) as url:
        settings.CONNECTOR_ENDPOINTS = {"gdelt": url}
        error = _fails()
    assert "truncated" in str(error) and not error.permanent


@pytest.mark.parametrize(("body", "fragment"), [
    (b'{"articles": [{"url": ', "malformed JSON"),
    (b"[1, 2]", "not an article list"),
    (b'{"articles": "none"}', "not an article list"),
    (b"<html><body>502 Bad Gateway</body></html>", "HTML page"),
    (b"", "empty answer"),
])
def test_malformed_bodies_are_transient(api, body, fragment):
    api.expect_request(PATH).respond_with_data(body, content_type="application/json")
    error = _fails()
    assert fragment in str(error) and not error.permanent


def test_control_characters_in_titles_are_tolerated(api):
    body = ('{"articles": [{"url": "https://x.example/a", "url_mobile": "", "title": '
            '"Acme\tCloud\x0b panne", "seendate": "20261124T113000Z", "socialimage": "", '
            '"domain": "x.example", "language": "French", "sourcecountry": "France"}]}')
    api.expect_request(PATH).respond_with_data(body, content_type="application/json")
    assert [item.title for item in _fetch().items] == ["Acme Cloud panne"]


def test_a_50_mb_body_with_a_length_is_refused(api):
    api.expect_request(PATH).respond_with_response(WerkzeugResponse(
        (b"x" * 65536 for _ in range(800)), content_type="application/json",
        headers={"Content-Length": str(800 * 65536)}))
    assert "over the 10 MB limit: not read" in str(_fails())


def test_a_50_mb_streamed_body_is_cut_at_the_limit(api):
    sent = []

    def chunks():
        for _ in range(800):
            sent.append(1)
            yield b"{" * 65536

    api.expect_request(PATH).respond_with_response(
        WerkzeugResponse(chunks(), content_type="application/json"))
    assert "more than the 10 MB limit" in str(_fails())
    assert len(sent) < 800


def test_requests_from_one_process_are_spaced(api, monkeypatch):
    monkeypatch.setattr(gdelt, "MIN_SPACING", 0.4)
    monkeypatch.setattr(gdelt, "_last_request", 0.0)
    times: list[float] = []

    def answer(request: Request) -> WerkzeugResponse:
        times.append(time.monotonic())
        return WerkzeugResponse("{}", content_type="application/json")

    api.expect_request(PATH).respond_with_handler(answer)
    _fetch()
    _fetch()
    assert times[1] - times[0] >= 0.4


# --- settings -------------------------------------------------------------------------


def test_validate_config():
    connector = GdeltConnector()
    assert connector.validate_config({"query": " acme  sourcelang:french "}) == {
        "query": "acme sourcelang:french"}
    assert connector.validate_config(
        {"query": "\"AI act\" acme", "languages": ["FR", "english"], "country": "FR"}) == {
        "query": "\"AI act\" acme", "languages": ["french", "english"], "country": "FR"}
    for config, message in [
        ({}, "query: required"),
        ({"query": "   "}, "query: required"),
        ({"query": "AI"}, "GDELT refuses words shorter than 3 characters \\('AI'\\)"),
        ({"query": "acme OR EU"}, "shorter than 3 characters \\('EU'\\)"),
        ({"query": "domain:acme.example"}, "at least one word of 3 characters"),
        ({"query": "\"AI\""}, "at least one word of 3 characters"),
        ({"query": "\"acme cloud"}, "quotation mark is not closed"),
        ({"query": "acme", "languages": "klingon"}, "languages: unknown language 'klingon'"),
        ({"query": "acme", "country": "FR; DROP"}, "country: expected a country name"),
        ({"query": "acme", "timespan": "1d"}, "timespan: unknown setting"),
    ]:
        with pytest.raises(ConfigInvalid, match=message):
            connector.validate_config(config)


# --- through the pipeline -------------------------------------------------------------


@pytest.mark.django_db
def test_a_poll_through_the_pipeline_stores_mentions(api, acme):
    from veilleur.monitoring.models import Health, Mention
    from veilleur.monitoring.pipeline import poll_source
    from veilleur.monitoring.sources import create_source

    _serve(api, "artlist.json")
    source = create_source(acme, "gdelt", "Press", {"query": "\"acme cloud\"",
                                                    "languages": "fr\nen"})
    report = poll_source(source.pk, NOW)
    assert report.error == "" and report.stored == 5
    source.refresh_from_db()
    assert source.health == Health.OK and source.cursor["since"] == "20261124T113000Z"
    # GDELT is polled at most every 5 minutes whatever the source's interval.
    assert source.next_poll_at == NOW + timedelta(seconds=gdelt.MIN_POLL_SECONDS)
    mention = Mention.objects.get(source=source, external_id=LEMONDE)
    assert mention.lang == "fr" and mention.author.handle == "lemonde.fr"
