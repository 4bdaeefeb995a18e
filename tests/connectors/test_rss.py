"""The RSS/Atom connector against recorded feeds served on loopback."""

from __future__ import annotations

import logging
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request
from werkzeug import Response as WerkzeugResponse

from tests.connectors.peers import FIXTURES, fixture_bytes, raw_peer, truncated_response
from veilleur.connectors import registry, rss
from veilleur.connectors.base import Batch, ConfigInvalid, SourceError
from veilleur.connectors.feed_documents import decode_feed, discover_feed
from veilleur.connectors.rss import SEEN_MIN, RssConnector

NOW = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)
RSS = "application/rss+xml; charset=UTF-8"
ATOM = "application/atom+xml; charset=UTF-8"


def feed(name: str) -> bytes:
    return fixture_bytes("rss", name)


def serve(server: HTTPServer, body: bytes, content_type: str = RSS, path: str = "/feed",
          headers: dict[str, str] | None = None, status: int = 200) -> str:
    server.expect_request(path).respond_with_data(
        body, status=status, content_type=content_type, headers=headers or {})
    return server.url_for(path)


def fetch(url: str, cursor=None, now: datetime = NOW, **settings) -> Batch:
    connector = RssConnector()
    return connector.fetch(connector.validate_config({"url": url, **settings}), cursor, now)


def fails(url: str, cursor=None, **settings) -> SourceError:
    with pytest.raises(SourceError) as caught:
        fetch(url, cursor, **settings)
    return caught.value


def by_id(batch: Batch) -> dict:
    return {item.external_id: item for item in batch.items}


def rss_items(*items: str, extra: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Test</title><link>https://forum.example/</link>{extra}{''.join(items)}"
        "</channel></rss>"
    ).encode()


def item(guid: str | None, *, title: str = "Nuvia", link: str | None = None,
         date: str | None = "Tue, 05 Mar 2024 10:00:00 GMT", body: str = "texte") -> str:
    parts = [f"<title>{title}</title>", f"<description>{body}</description>"]
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    if link is not None:
        parts.append(f"<link>{link}</link>")
    if date is not None:
        parts.append(f"<pubDate>{date}</pubDate>")
    return f"<item>{''.join(parts)}</item>"


def test_the_registry_knows_the_kind():
    connector = registry.get_connector("rss")
    assert isinstance(connector, RssConnector)
    assert connector.kind == "rss" and [f.name for f in connector.fields] == [
        "url", "lang", "max_items"]


# --- mapping recorded feeds ------------------------------------------------------------


def test_a_french_news_feed_maps_every_field(httpserver):
    batch = fetch(serve(httpserver, feed("news_fr.xml")))
    assert [i.external_id for i in batch.items] == [
        "https://www.courrier-numerique.fr/?p=48213",
        "https://www.courrier-numerique.fr/?p=48190",
        "https://www.courrier-numerique.fr/?p=48152",
    ]
    first = batch.items[0]
    assert first.title == ("Panne géante chez Nuvia : des milliers d’abonnés privés "
                           "d’Internet dans l’Ouest")
    assert first.url == "https://www.courrier-numerique.fr/2024/03/05/panne-geante-nuvia-ouest/"
    # content:encoded (the full article) wins over the description, as plain text.
    assert first.text.startswith("Depuis mardi matin, les clients fibre de Nuvia en Bretagne")
    assert "« Trois heures d’attente au service client" in first.text
    assert "\n\nContacté, Nuvia assure" in first.text
    assert "<" not in first.text and "tracking" not in first.text
    # 15:12:40 +0100 is 14:12:40 UTC.
    assert first.published_at == datetime(2024, 3, 5, 14, 12, 40, tzinfo=UTC)
    assert (first.author_handle, first.author_name) == ("Camille Roux", "Camille Roux")
    assert first.lang_hint == "fr" and first.platform == ""
    assert first.extra == {"item_type": "article"}
    assert batch.items[1].text.startswith("Après deux années de guerre des prix")
    assert "3 € par mois" in batch.items[1].text
    # <ttl>30</ttl>: the feed asks not to be polled more than every 30 minutes.
    assert batch.hint.retry_after == 1800 and not batch.more


def test_an_atom_blog_feed(httpserver):
    fetched = fetch(serve(httpserver, feed("blog_atom.xml"), ATOM))
    assert fetched.hint.retry_after is None  # no <ttl>, no Cache-Control
    batch = by_id(fetched)
    post = batch["https://blog.priyaraman.dev/posts/nuvia-outage/"]
    assert post.title == "Three days without Nuvia fibre: a post-mortem from the customer side"
    assert post.url == "https://blog.priyaraman.dev/posts/nuvia-outage/"
    assert post.published_at == datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
    assert post.author_name == "Priya Raman"
    assert post.author_url == "https://blog.priyaraman.dev/about/"
    assert "Monday 18:10 — a technician finally confirms" in post.text  # content, not summary
    assert post.lang_hint == "en"
    # xml:lang of the entry, not of the feed.
    french = batch["https://blog.priyaraman.dev/fr/posts/changer-operateur/"]
    assert french.lang_hint == "fr"
    assert french.published_at == datetime(2024, 3, 2, 17, 0, tzinfo=UTC)
    xhtml = batch["https://blog.priyaraman.dev/posts/bgp-route-leaks/"]
    assert xhtml.title == "Notes on BGP route leaks"
    assert xhtml.text == ("A route leak is not a hijack, but your customers will not see "
                          "the difference.")


def test_google_alerts_links_are_unwrapped(httpserver):
    batch = fetch(serve(httpserver, feed("google_alerts.xml"), "text/xml; charset=UTF-8"),
                  lang="fr")
    first, second, third = batch.items
    assert first.external_id == "tag:google.com,2013:googlealerts/feed:9308315342155493611"
    assert first.url == "https://www.courrier-numerique.fr/2024/03/05/panne-geante-nuvia-ouest/"
    assert third.url == ("https://www.emploi-tech.fr/actualites/nuvia-recrute-techniciens-"
                         "fibre?utm_source=rss")
    assert first.title == "Panne géante chez Nuvia : des milliers d'abonnés privés d'Internet"
    assert second.text.startswith("À Nantes, de nombreux abonnés Nuvia signalent")
    assert first.author_handle == "" and first.author_name == ""  # Alerts have no author
    assert first.published_at == datetime(2024, 3, 5, 14, 31, 7, tzinfo=UTC)
    assert first.lang_hint == "fr"  # the source's setting: Alerts feeds declare none


def test_google_news_items_name_their_publisher(httpserver):
    batch = fetch(serve(httpserver, feed("google_news.xml"), "application/xml; charset=utf-8"))
    single, cluster, other = batch.items
    assert single.external_id.startswith("CBMiZmh0dHBzOi8vd3d3LmxlbW9uZGUuZnIv")
    assert single.url.startswith("https://news.google.com/rss/articles/CBMiZmh0")
    assert single.title == "Panne chez Nuvia : l'opérateur promet un geste commercial"
    assert (single.author_name, single.author_handle, single.author_url) == (
        "Le Monde.fr", "lemonde.fr", "https://www.lemonde.fr")
    assert single.platform == "news" and single.lang_hint == "fr"
    # A description that only repeats headline and publisher adds nothing.
    assert single.text == ""
    assert cluster.author_handle == "actu.ouest-quotidien.fr"
    assert "Incident réseau Nuvia : Nantes et Rennes touchées" in cluster.text
    assert other.published_at == datetime(2024, 3, 4, 8, 0, tzinfo=UTC)


def test_reddit_search_entries(httpserver):
    batch = by_id(fetch(serve(httpserver, feed("reddit_search.xml"), ATOM)))
    post = batch["t3_1b75x2k"]
    assert post.platform == "reddit"
    assert (post.author_handle, post.author_name, post.author_url) == (
        "Kermorvan_56", "/u/Kermorvan_56", "https://www.reddit.com/user/Kermorvan_56")
    assert post.extra == {"item_type": "post", "subreddit": "france"}
    assert post.text == ("Ça fait trois jours que je n'ai plus internet chez Nuvia. Le service "
                         "client me dit de redémarrer la box, j'ai dû le faire quinze fois.\n\n"
                         "Quelqu'un d'autre dans le 44 ? Vous avez obtenu un dédommagement ?")
    assert post.title == "Panne Nuvia depuis trois jours, quelqu'un d'autre ?"
    assert post.url == ("https://www.reddit.com/r/france/comments/1b75x2k/"
                        "panne_nuvia_depuis_trois_jours/")
    # A link post has no body: no "submitted by ... [link] [comments]" boilerplate.
    link_post = batch["t3_1b74qzd"]
    assert link_post.text == "" and link_post.extra["subreddit"] == "technology"
    assert "submitted by" not in batch["t3_1b6ztyw"].text


def test_reddit_comment_feeds_give_the_thread(httpserver):
    body = b"""<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>Panne Nuvia : france</title><entry><author><name>/u/breizh_net</name>
<uri>https://www.reddit.com/user/breizh_net</uri></author>
<category term="france" label="r/france"/><content type="html">&lt;div class=&quot;md&quot;&gt;
&lt;p&gt;Pareil \xc3\xa0 Vannes depuis 8h.&lt;/p&gt;&lt;/div&gt;</content><id>t1_kt0x9qa</id>
<link href="https://www.reddit.com/r/france/comments/1b75x2k/panne_nuvia/kt0x9qa/"/>
<updated>2024-03-05T14:10:00+00:00</updated><title>/u/breizh_net on Panne Nuvia</title>
</entry></feed>"""
    comment = fetch(serve(httpserver, body, ATOM)).items[0]
    assert comment.external_id == "t1_kt0x9qa" and comment.text == "Pareil à Vannes depuis 8h."
    assert comment.extra == {"item_type": "comment", "subreddit": "france",
                             "thread_id": "t3_1b75x2k"}


def test_youtube_channel_feed(httpserver):
    batch = by_id(fetch(serve(httpserver, feed("youtube_channel.xml"), "text/xml; charset=UTF-8")))
    video = batch["yt:video:Qm3xT8vLw2s"]
    assert video.platform == "youtube"
    assert (video.author_handle, video.author_name, video.author_url) == (
        "UCq8Wc1yHd5nUmD3vN0tXk2A", "Tech Au Quotidien",
        "https://www.youtube.com/channel/UCq8Wc1yHd5nUmD3vN0tXk2A")
    assert video.url == "https://www.youtube.com/watch?v=Qm3xT8vLw2s"
    assert video.extra == {"item_type": "video", "video_id": "Qm3xT8vLw2s", "score": 48213,
                           "likes": 1843}
    # media:description is plain text: lines kept, "<3" and "&" not taken for markup.
    assert video.text.splitlines()[-1] == "09:40 Le service client <3"
    assert "03:12 Débits & ping" in video.text
    assert video.published_at == datetime(2024, 3, 4, 17, 0, 6, tzinfo=UTC)
    short = batch["yt:video:Zr0pK4nBd7E"]
    assert short.url == "https://www.youtube.com/shorts/Zr0pK4nBd7E"
    assert short.text == "" and short.title == "Panne Nuvia : ce qu'il faut faire #shorts"
    assert short.extra["score"] == 9120


# --- encodings and malformed bodies ---------------------------------------------------

WINDOWS_1252 = feed("windows1252.xml")
NO_DECLARED_ENCODING = WINDOWS_1252.replace(b' encoding="windows-1252"', b"")


@pytest.mark.parametrize(("body", "content_type"), [
    (WINDOWS_1252, "application/rss+xml"),  # the XML declaration only
    (WINDOWS_1252, "text/xml"),  # RFC 3023 would say us-ascii: the declaration is kinder
    (WINDOWS_1252, "text/xml; charset=windows-1252"),  # both
    (NO_DECLARED_ENCODING, "application/rss+xml; charset=windows-1252"),  # the header only
    (NO_DECLARED_ENCODING, "application/rss+xml; charset=ISO-8859-1"),  # the classic mislabel
    (WINDOWS_1252.replace(b"windows-1252", b"ISO-8859-1"), "application/rss+xml"),
])
def test_a_windows_1252_feed_decodes(httpserver, body, content_type):
    entry = fetch(serve(httpserver, body, content_type)).items[0]
    assert entry.title == "Nuvia : l’abonnement fibre passe à 34,99 € par mois"
    assert entry.text == ("« C’est la deuxième hausse en un an », s’agace un abonné. L’opérateur "
                          "évoque le coût de l’énergie… et promet un cœur de réseau "
                          "« plus fiable ».")


def test_a_utf8_feed_labelled_latin1_still_reads_as_utf8(httpserver):
    entry = fetch(serve(httpserver, feed("news_fr.xml"), "text/xml; charset=ISO-8859-1")).items[0]
    assert entry.title.startswith("Panne géante chez Nuvia : des milliers d’abonnés")


def test_decoding_rules():
    text = "Écho : 5 € « café »"
    assert decode_feed(b"\xef\xbb\xbf" + text.encode(), "text/xml; charset=cp1252") == text
    assert decode_feed("<a>" .encode("utf-16") + text.encode("utf-16-le"), "") \
        == "<a>" + text
    assert decode_feed(text.encode("cp1252"), "") == text  # neither UTF-8 nor labelled
    assert decode_feed(text.encode("iso8859-15"), "text/xml; charset=ISO-8859-15") == text
    assert decode_feed(text.encode(), 'text/xml; charset="bogus-charset"') == text


def test_a_malformed_feed_with_entries_is_accepted_quietly(httpserver, caplog):
    caplog.set_level(logging.INFO)
    batch = fetch(serve(httpserver, feed("malformed.xml")))
    titles = [i.title for i in batch.items]
    assert titles == ["Re: Nuvia : plus de synchro depuis ce matin",
                      "Nuvia : plus de synchro depuis ce matin & aucune info"]
    assert batch.items[1].text == ("Bonjour, ma box Nuvia clignote rouge depuis 7h. Le 3900 "
                                   "sonne dans le vide.\nQuelqu'un a des infos ?")
    assert batch.items[1].url == ("https://forum.fibre-adsl.example/viewtopic.php?t=18342"
                                  "&p=220931#p220931")
    assert not [r for r in caplog.records
                if r.levelno >= logging.INFO and r.name.startswith("veilleur")]


def test_an_html_page_is_not_a_feed_and_its_feed_is_named(httpserver):
    url = serve(httpserver, feed("not_a_feed.html"), "text/html; charset=utf-8", path="/")
    error = fails(url)
    assert str(error) == (
        "localhost: the address did not return an RSS or Atom feed but a web page; the "
        "page names a feed at www.courrier-numerique.fr/feed/: use that address")
    assert not error.permanent


def test_a_page_of_unclosed_link_tags_is_searched_in_linear_time():
    page = "<html>" + "<link " * 33_000  # 200,000 characters, never a ">"
    started = time.monotonic()
    assert discover_feed(page, "https://example.org/") == ""  # ~4 s when quadratic
    assert discover_feed(page[:1000] + '<link rel="alternate" type="application/rss+xml" '
                         'href="/feed">', "https://example.org/") == "https://example.org/feed"
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(("body", "content_type", "message"), [
    (b"", "application/rss+xml", "did not return an RSS or Atom feed (the response was empty)"),
    (b"   \n ", "text/xml", "did not return an RSS or Atom feed (the response was empty)"),
    (b"<html><body>Maintenance en cours</body></html>", "text/html",
     "did not return an RSS or Atom feed but a web page"),
    (b'{"items": []}', "application/json",
     "did not return an RSS or Atom feed (13 bytes of application/json)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "image/png",
     "did not return an RSS or Atom feed (17 bytes of image/png)"),
    (b'<?xml version="1.0"?><urlset><url><loc>https://a.example/</loc></url></urlset>',
     "application/xml", "did not return an RSS or Atom feed (78 bytes of application/xml)"),
    (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Coupure</title><item><ti',
     "application/rss+xml", "the feed is malformed and no entry could be read (line "),
])
def test_bodies_without_a_feed_are_errors(httpserver, body, content_type, message):
    error = fails(serve(httpserver, body, content_type))
    assert message in str(error) and not error.permanent


def test_a_valid_feed_with_no_entries_is_an_empty_batch(httpserver):
    batch = fetch(serve(httpserver, rss_items()))
    assert batch.items == [] and batch.cursor["seen"] == []


def test_feedparser_never_fetches_or_opens_what_the_body_names(httpserver):
    # Handed a string, feedparser would fetch a URL or read a local file by that name.
    httpserver.expect_request("/secret").respond_with_data(rss_items(item("leak")))
    local_feed = FIXTURES / "rss" / "news_fr.xml"
    for body in (httpserver.url_for("/secret").encode(), str(local_feed).encode()):
        error = fails(serve(httpserver, body, "text/plain", path="/body"))
        assert "did not return an RSS or Atom feed" in str(error)
        httpserver.clear()
        httpserver.expect_request("/secret").respond_with_data(rss_items(item("leak")))
    assert not [r for r, _ in httpserver.log if r.path == "/secret"]


# --- cursor -----------------------------------------------------------------------------


def test_a_second_poll_returns_only_new_entries(httpserver):
    old = [item("a", date="Mon, 04 Mar 2024 09:00:00 GMT"),
           item("b", date="Mon, 04 Mar 2024 10:00:00 GMT")]
    url = serve(httpserver, rss_items(*old))
    first = fetch(url)
    assert [i.external_id for i in first.items] == ["b", "a"]
    assert first.cursor["newest"] == "2024-03-04T10:00:00+00:00"
    httpserver.clear()
    new = item("c", date="Tue, 05 Mar 2024 11:00:00 GMT")
    serve(httpserver, rss_items(new, old[1]))  # "a" left the feed, "c" arrived
    second = fetch(url, first.cursor)
    assert [i.external_id for i in second.items] == ["c"]
    assert second.cursor["newest"] == "2024-03-05T11:00:00+00:00"
    # What left the feed is still remembered (bounded), newest first.
    assert len(second.cursor["seen"]) == 3
    assert fetch(url, second.cursor).items == []


def test_conditional_get_with_etag_and_last_modified(httpserver):
    seen_headers = []

    def handler(request: Request) -> WerkzeugResponse:
        seen_headers.append(dict(request.headers))
        if request.headers.get("If-None-Match") == '"v1"':
            return WerkzeugResponse(status=304, headers={"Cache-Control": "max-age=600"})
        return WerkzeugResponse(feed("news_fr.xml"), content_type=RSS, headers={
            "ETag": '"v1"', "Last-Modified": "Tue, 05 Mar 2024 14:20:31 GMT"})

    httpserver.expect_request("/feed").respond_with_handler(handler)
    url = httpserver.url_for("/feed")
    first = fetch(url)
    assert len(first.items) == 3
    assert first.cursor["etag"] == '"v1"'
    assert first.cursor["modified"] == "Tue, 05 Mar 2024 14:20:31 GMT"
    assert "If-None-Match" not in seen_headers[0]
    assert "application/rss+xml" in seen_headers[0]["Accept"]
    second = fetch(url, first.cursor)
    assert seen_headers[1]["If-None-Match"] == '"v1"'
    assert seen_headers[1]["If-Modified-Since"] == "Tue, 05 Mar 2024 14:20:31 GMT"
    assert second.items == [] and second.cursor == first.cursor and not second.more
    assert second.hint.retry_after == 600


@pytest.mark.parametrize(("cache_control", "ttl", "expected"), [
    ("max-age=900", 30, 1800),  # the longer of the two
    ("max-age=2400", 30, 2400),
    ("max-age=7200", None, 3600),  # bounded
    ("", 100_000, 3600),  # a feed asking for a day between polls is not obeyed
    ("no-cache", None, None),
    ("", "soon", None),  # junk
])
def test_poll_hints_from_cache_control_and_ttl(httpserver, cache_control, ttl, expected):
    extra = f"<ttl>{ttl}</ttl>" if ttl is not None else ""
    headers = {"Cache-Control": cache_control} if cache_control else {}
    batch = fetch(serve(httpserver, rss_items(item("a"), extra=extra), headers=headers))
    assert batch.hint.retry_after == expected


def test_a_backlog_is_read_over_several_polls_without_conditional_get(httpserver):
    requests = []

    def handler(request: Request) -> WerkzeugResponse:
        requests.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return WerkzeugResponse(status=304)
        return WerkzeugResponse(feed("news_fr.xml"), content_type=RSS, headers={"ETag": '"v1"'})

    httpserver.expect_request("/feed").respond_with_handler(handler)
    url = httpserver.url_for("/feed")
    first = fetch(url, max_items=2)
    assert [i.external_id[-5:] for i in first.items] == ["48213", "48190"]  # newest first
    assert first.more and first.cursor["etag"] == "" and first.cursor["newest"] is None
    second = fetch(url, first.cursor, max_items=2)
    assert [i.external_id[-5:] for i in second.items] == ["48152"]
    assert not second.more and second.cursor["etag"] == '"v1"'
    assert second.cursor["newest"] == "2024-03-05T14:12:40+00:00"
    third = fetch(url, second.cursor, max_items=2)
    assert third.items == [] and requests == [None, None, '"v1"']


def test_a_feed_whose_ids_change_at_every_request_cannot_ask_for_polls_for_ever(
        httpserver, monkeypatch):
    monkeypatch.setattr(rss, "MAX_FEED_ENTRIES", 50)  # a backlog drains in 5 follow-ups
    requests = []

    def handler(request: Request) -> WerkzeugResponse:
        # 30 entries whose guids carry a per-request token: all "new" every time.
        requests.append(1)
        entries = [item(f"post-{n}?session={len(requests)}", date=None) for n in range(30)]
        return WerkzeugResponse(rss_items(*entries), content_type=RSS)

    httpserver.expect_request("/feed").respond_with_handler(handler)
    url = httpserver.url_for("/feed")
    cursor, more = None, []
    for _poll in range(12):  # what the pipeline does while ``more`` is set
        batch = fetch(url, cursor, max_items=10)
        cursor = batch.cursor
        more.append(batch.more)
        if not batch.more:
            break
    # Before, every poll found 20 "new" entries left over and asked for another.
    assert more == [True] * 5 + [False] and "backlog" not in cursor


def test_duplicated_entries_come_once(httpserver):
    twice = item("dup", title="Nuvia en panne")
    url = serve(httpserver, rss_items(twice, item("other"), twice))
    first = fetch(url)
    assert sorted(i.external_id for i in first.items) == ["dup", "other"]
    httpserver.clear()
    # The next document repeats them among a new one: only the new one comes.
    serve(httpserver, rss_items(item("new"), twice, item("other"), twice))
    assert [i.external_id for i in fetch(url, first.cursor).items] == ["new"]


def test_entry_ids_fall_back_to_the_link_then_to_a_hash(httpserver):
    body = rss_items(
        item(None, title="Sans guid", link="https://forum.example/t/1"),
        item(None, title="Ni guid ni lien", date="Tue, 05 Mar 2024 09:00:00 GMT"),
        item("   ", title="Guid vide", link="https://forum.example/t/2"),
    )
    url = serve(httpserver, body)
    ids = {i.title: i.external_id for i in fetch(url).items}
    assert ids["Sans guid"] == "https://forum.example/t/1"
    assert ids["Guid vide"] == "https://forum.example/t/2"
    assert ids["Ni guid ni lien"].startswith("sha1:") and len(ids["Ni guid ni lien"]) == 45
    assert {i.title: i.external_id for i in fetch(url).items} == ids  # stable


def test_different_entries_sharing_a_guid_stay_apart(httpserver):
    body = rss_items(
        item("https://forum.example/", title="Sujet 1", link="https://forum.example/t/1"),
        item("https://forum.example/", title="Sujet 2", link="https://forum.example/t/2"),
    )
    ids = {i.external_id for i in fetch(serve(httpserver, body)).items}
    assert ids == {"https://forum.example/#https://forum.example/t/1",
                   "https://forum.example/#https://forum.example/t/2"}


def test_a_very_long_id_is_hashed(httpserver):
    long_guid = "urn:x:" + "a" * 600
    entry = fetch(serve(httpserver, rss_items(item(long_guid)))).items[0]
    assert entry.external_id.startswith("sha1:") and len(entry.external_id) == 45


def test_an_old_entry_coming_back_is_not_news(httpserver):
    url = serve(httpserver, rss_items(item("fresh", date="Tue, 05 Mar 2024 12:00:00 GMT")))
    first = fetch(url)
    httpserver.clear()
    serve(httpserver, rss_items(
        item("fresh", date="Tue, 05 Mar 2024 12:00:00 GMT"),
        item("late", date="Fri, 01 Mar 2024 12:00:00 GMT"),  # indexed late: still news
        item("archive", date="Mon, 01 Jan 2024 12:00:00 GMT"),  # 2 months older
        item("undated", date=None),
    ))
    second = fetch(url, first.cursor)
    assert [i.external_id for i in second.items] == ["late", "undated"]
    assert len(second.cursor["seen"]) == 4  # the archive entry is remembered as read
    assert second.cursor["newest"] == "2024-03-05T12:00:00+00:00"


def test_a_future_date_does_not_move_newest_past_now(httpserver):
    batch = fetch(serve(httpserver, rss_items(item("x", date="Fri, 01 Jan 2100 00:00:00 GMT"))))
    assert batch.cursor["newest"] == NOW.isoformat()


def test_the_seen_memory_is_bounded(httpserver):
    url = serve(httpserver, rss_items(*(item(f"e{n}") for n in range(5))))
    first = fetch(url)
    cursor = dict(first.cursor, seen=first.cursor["seen"] + [f"{n:012x}" for n in range(5000)])
    second = fetch(url, cursor)
    assert second.items == []
    assert len(second.cursor["seen"]) == SEEN_MIN
    assert set(first.cursor["seen"]) <= set(second.cursor["seen"])  # the feed's own first


@pytest.mark.parametrize("cursor", [None, "junk", 42, [], {"v": 99}, {"v": 1, "feed": "x"},
                                    {"v": 1, "seen": "abc", "newest": "yesterday"}])
def test_a_cursor_that_does_not_fit_starts_afresh(httpserver, cursor):
    url = serve(httpserver, feed("news_fr.xml"))
    assert len(fetch(url, cursor).items) == 3


def test_a_cursor_of_another_address_is_not_used(httpserver):
    first = fetch(serve(httpserver, feed("news_fr.xml"), headers={"ETag": '"v1"'}))
    other = serve(httpserver, feed("news_fr.xml"), path="/other")
    again = fetch(other, first.cursor)
    assert len(again.items) == 3
    assert "If-None-Match" not in httpserver.log[-1][0].headers


# --- faults -------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "headers", "permanent", "retry_after", "words"), [
    (401, {}, True, None, "refused access (HTTP 401)"),
    (403, {}, True, None, "refused access (HTTP 403)"),
    (404, {}, True, None, "does not exist (HTTP 404)"),
    (410, {}, True, None, "does not exist (HTTP 410)"),
    (429, {"Retry-After": "120"}, False, 120, "rate limiting us (HTTP 429)"),
    (500, {}, False, None, "server error (HTTP 500)"),
    (503, {"Retry-After": "30"}, False, 30, "server error (HTTP 503)"),
])
def test_error_statuses(httpserver, status, headers, permanent, retry_after, words):
    url = serve(httpserver, b"<html>no</html>", "text/html", headers=headers, status=status)
    error = fails(url + "?token=s3cret")
    assert words in str(error) and "s3cret" not in str(error)
    assert error.permanent is permanent and error.retry_after == retry_after


def test_a_silent_peer_times_out(settings):
    settings.CONNECTOR_HTTP_TIMEOUT = 0.5
    with raw_peer(b"", hold=3) as url:
        error = fails(url + "/feed")
    assert "did not answer within 0.5 s" in str(error) and not error.permanent


def test_a_truncated_body(httpserver):
    body = feed("news_fr.xml")
    with raw_peer(truncated_response(body[: len(body) // 2], "application/rss+xml")) as url:
        error = fails(url + "/feed")
    assert "truncated" in str(error) and not error.permanent


def test_a_50_mb_body_with_a_length_is_refused(httpserver):
    httpserver.expect_request("/feed").respond_with_response(WerkzeugResponse(
        (b"<" * 65536 for _ in range(800)), content_type=RSS,
        headers={"Content-Length": str(800 * 65536)}))
    error = fails(httpserver.url_for("/feed"))
    assert "over the 10 MB limit: not read" in str(error)


def test_a_50_mb_streamed_body_is_cut_at_the_limit_not_read_into_memory(httpserver):
    sent = []
    chunk = b"<item>" * 10922

    def chunks():
        for _ in range(800):
            sent.append(1)
            yield chunk

    httpserver.expect_request("/feed").respond_with_response(
        WerkzeugResponse(chunks(), content_type=RSS))
    tracemalloc.start()
    try:
        error = fails(httpserver.url_for("/feed"))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "more than the 10 MB limit" in str(error)
    assert len(sent) < 800 and peak < 30 * 1024 * 1024


# --- settings -------------------------------------------------------------------------


def test_validate_config():
    connector = RssConnector()
    url = "https://www.courrier-numerique.fr/feed/"
    assert connector.validate_config({"url": f" {url} "}) == {"url": url, "max_items": 100}
    assert connector.validate_config({"url": url, "lang": "French", "max_items": "20"}) == {
        "url": url, "lang": "fr", "max_items": 20}
    assert connector.validate_config({"url": url, "lang": "fr-FR"})["lang"] == "fr"
    for config, message in [
        ({}, "url: required"),
        ({"url": "ftp://example.org/feed"}, "url: expected an http:// or https:// address"),
        ({"url": "feed.xml"}, "url: expected an http:// or https:// address"),
        ({"url": url, "max_items": "0"}, "max_items: expected a whole number from 1 to 500"),
        ({"url": url, "max_items": "501"}, "max_items: expected a whole number from 1 to 500"),
        ({"url": url, "max_items": "many"}, "max_items: expected a whole number"),
        ({"url": url, "lang": "Klingon!"}, "lang: expected a language code such as fr or en"),
        ({"url": url, "query": "nuvia"}, "query: unknown setting"),
        ({"url": "https://me:pw@example.org/feed"}, "url: the address contains a user name"),
        ({"url": "https://www.youtube.com/@techauquotidien"}, "url: this YouTube page is not"),
        ({"url": "https://www.google.com/alerts"}, "url: this is the Google Alerts page"),
    ]:
        with pytest.raises(ConfigInvalid, match=message.replace("(", r"\(")):
            connector.validate_config(config)


@pytest.mark.parametrize(("given", "stored"), [
    ("https://www.youtube.com/channel/UCq8Wc1yHd5nUmD3vN0tXk2A",
     "https://www.youtube.com/feeds/videos.xml?channel_id=UCq8Wc1yHd5nUmD3vN0tXk2A"),
    ("https://youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG",
     "https://www.youtube.com/feeds/videos.xml?playlist_id=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG"),
    ("https://www.youtube.com/user/GoogleDevelopers/videos",
     "https://www.youtube.com/feeds/videos.xml?user=GoogleDevelopers"),
    ("https://www.reddit.com/search/?q=nuvia&sort=new",
     "https://www.reddit.com/search.rss?q=nuvia&sort=new"),
    ("https://old.reddit.com/r/france/new/", "https://www.reddit.com/r/france/new/.rss"),
    ("https://news.google.com/search?q=nuvia&hl=fr&gl=FR&ceid=FR%3Afr",
     "https://news.google.com/rss/search?q=nuvia&hl=fr&gl=FR&ceid=FR%3Afr"),
    # Feed addresses are kept as they are.
    ("https://www.reddit.com/search.rss?q=nuvia", "https://www.reddit.com/search.rss?q=nuvia"),
    ("https://www.youtube.com/feeds/videos.xml?channel_id=UCq8Wc1yHd5nUmD3vN0tXk2A",
     "https://www.youtube.com/feeds/videos.xml?channel_id=UCq8Wc1yHd5nUmD3vN0tXk2A"),
    ("https://www.google.com/alerts/feeds/06807031914929345698/10604166159629661594",
     "https://www.google.com/alerts/feeds/06807031914929345698/10604166159629661594"),
    ("https://news.google.com/rss/search?q=nuvia", "https://news.google.com/rss/search?q=nuvia"),
])
def test_service_pages_become_their_feed(given, stored):
    assert RssConnector().validate_config({"url": given})["url"] == stored


# --- through the pipeline -------------------------------------------------------------


@pytest.mark.django_db
def test_a_poll_through_the_pipeline_stores_mentions(httpserver, acme):
    from veilleur.monitoring.models import Health, Mention, Watch
    from veilleur.monitoring.pipeline import poll_source
    from veilleur.monitoring.sources import create_source

    watch = Watch.objects.create(workspace=acme, name="Nuvia", query="nuvia")
    url = serve(httpserver, feed("news_fr.xml"), headers={"ETag": '"v1"'})
    source = create_source(acme, "rss", "Courrier numérique", {"url": url, "lang": "fr"})
    report = poll_source(source.pk, NOW)
    assert report.error == "" and report.stored == 3
    source.refresh_from_db()
    assert source.health == Health.OK and source.cursor["etag"] == '"v1"'
    # The feed's <ttl> (30 min) pushes the next poll past the 5-minute interval.
    assert source.next_poll_at == NOW + timedelta(seconds=1800)
    mention = Mention.objects.get(source=source,
                                  external_id="https://www.courrier-numerique.fr/?p=48213")
    assert mention.title.startswith("Panne géante chez Nuvia")
    assert mention.author.handle == "Camille Roux" and mention.author.platform == "rss"
    assert mention.lang == "fr"
    assert mention.published_at == datetime(2024, 3, 5, 14, 12, 40, tzinfo=UTC)
    assert set(watch.mentions.values_list("external_id", flat=True)) == {
        "https://www.courrier-numerique.fr/?p=48213",
        "https://www.courrier-numerique.fr/?p=48190",
    }
    again = poll_source(source.pk, NOW + timedelta(hours=1))
    assert again.error == "" and again.fetched == 0 and again.stored == 0
    assert Mention.objects.filter(source=source).count() == 3
