"""RSS and Atom feeds: news sites, blogs, forums, Google Alerts, Google News, Reddit
search, YouTube channels (docs/sources/rss.md).

**Fetching.** The feed is fetched with ``HttpClient`` (SSRF guard, size and time
limits, conditional GET) and only the bytes are handed to feedparser, wrapped in a
``BytesIO``: given a string, feedparser would fetch URLs or open local files itself.

**Encoding.** The bytes are decoded here, not by feedparser, the way browsers read
XML: a byte-order mark first, then the ``charset`` of Content-Type, then the XML
declaration's ``encoding``. ISO-8859-1 and US-ASCII labels are read as Windows-1252
(its superset: servers label Windows-1252 feeds ``ISO-8859-1`` all the time, and the
``€`` and ``’`` of such feeds only exist in Windows-1252), and a body that is valid
UTF-8 is read as UTF-8 whatever Western single-byte label it carries (a server-wide
``charset=ISO-8859-1`` on a UTF-8 feed is the other classic). feedparser then gets
UTF-8 with a matching declaration, so its ``bozo`` flag reports XML problems only.

**Malformed feeds.** A feed feedparser flags as ``bozo`` (not well-formed XML) but
still reads entries from is accepted as it is, quietly. A body with no feed in it
(an HTML page, an empty body, anything else) is a ``SourceError`` saying the address
did not return an RSS or Atom feed; an HTML page that names its feed in a ``<link
rel="alternate">`` gets that address in the message.

**Cursor.** ``{"v": 1, "feed", "etag", "modified", "newest", "seen"}``: the ETag and
Last-Modified of the last complete read (sent back as If-None-Match /
If-Modified-Since; a 304 is an empty batch and the cursor stays), the newest
published time read, and short digests of the entry ids already read (most recent
first, bounded: twice the feed's length, within ``SEEN_MIN``..``SEEN_MAX``). A
re-poll returns the entries whose id is not in ``seen``, except entries published
more than ``OLD_ENTRY_WINDOW`` before ``newest``: those are old entries coming back
(a feed reshuffled, or ids that left the bounded memory), not news. ``feed`` is a
digest of the address: a source whose address changed starts afresh. At most
``max_items`` entries are returned per fetch, newest first; the rest of a backlog
comes in immediate follow-up polls (``more=True``, with no conditional headers until
the backlog is read), counted in ``backlog`` and bounded: a feed whose ids change at
every request would never run out of "new" entries.

**Entry ids.** ``id``/``guid``, else the link, else a hash of title and published
date. A feed that gives several different entries the same id (it happens: a guid
set to the site's address) gets the link added to those ids so they stay apart.

**Services.** Google Alerts links (``google.com/url?...&url=REAL``) are unwrapped;
Google News titles lose their `` - Publisher`` suffix and the publisher becomes the
author; Reddit entries (``t3_`` posts, ``t1_`` comments) get the ``/u/`` author, the
subreddit and the thread; YouTube entries get the channel as author and the view
count (``media:statistics``) as ``score``. Poll hints come from the response
(Retry-After, Cache-Control) and from the feed's own ``<ttl>`` (minutes), bounded.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from veilleur.connectors.base import (
    JSON,
    Batch,
    ConfigField,
    PollHint,
    RawItem,
    SourceError,
)
from veilleur.connectors.fields import bounded_int, clean_fields, invalid
from veilleur.connectors.html_text import html_to_text
from veilleur.connectors.http import MAX_CACHE_SECONDS, HttpClient, Response, describe
from veilleur.connectors.vendor_formats import normalise_lang

log = logging.getLogger(__name__)

DEFAULT_MAX_ITEMS = 100
MAX_ITEMS_LIMIT = 500
MAX_FEED_ENTRIES = 1000  # entries read from one feed document, newest first
SEEN_MIN = 200
SEEN_MAX = 2000
OLD_ENTRY_WINDOW = timedelta(days=30)
MAX_TTL_SECONDS = MAX_CACHE_SECONDS
MAX_ID_CHARS = 400  # longer ids are hashed (the mention's external id holds 512)
MAX_VALIDATOR_CHARS = 512  # ETag / Last-Modified kept in the cursor
CURSOR_VERSION = 1
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.1"
)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Codec names (as codecs.lookup spells them) read as Windows-1252.
_WINDOWS_1252_ALIASES = frozenset({"iso8859-1", "ascii", "cp1252"})
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\"';\s]+)", re.IGNORECASE)
_PROLOG_ENCODING = re.compile(
    rb"^\s*<\?xml\b[^>]{0,200}?\bencoding\s*=\s*[\"']([A-Za-z0-9._:-]{1,40})[\"']")
_DECLARATION = re.compile(r"^(\s*<\?xml\b[^>]{0,200}?)\bencoding\s*=\s*([\"'])[^\"']*\2")
_LINK_TAG = re.compile(r"<link\b[^<>]*>", re.IGNORECASE)  # no "<" inside: linear
_ATTRIBUTE = re.compile(r"([a-zA-Z-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))")
_REDDIT_THING = re.compile(r"^t([13])_([0-9a-z]+)$")
_REDDIT_COMMENTS = re.compile(r"/comments/([0-9a-z]+)(?:/|$)")
_FEED_TYPES = ("application/rss+xml", "application/atom+xml")


class RssConnector:
    """Any RSS or Atom feed; see the module docstring for cursor and mapping."""

    kind = "rss"
    platform = "rss"
    label = _("RSS or Atom feed")
    fields = (
        ConfigField(
            "url", _("Feed address"), type="url", required=True,
            help=_("The address of an RSS or Atom feed: a news site's or a blog's feed, a "
                   "Google Alerts or Google News feed, a Reddit search "
                   "(https://www.reddit.com/search.rss?q=...) or a YouTube channel "
                   "(https://www.youtube.com/feeds/videos.xml?channel_id=...)."),
        ),
        ConfigField(
            "lang", _("Language"),
            help=_("Language of the feed's entries (fr, en...), when the feed does not "
                   "say or says it wrong. It takes precedence over the feed's own."),
        ),
        ConfigField(
            "max_items", _("Entries per poll"), type="int", default=DEFAULT_MAX_ITEMS,
            help=_("At most this many new entries are read per poll (1 to 500); a longer "
                   "backlog is read over the next polls, at once."),
        ),
    )

    def validate_config(self, config: Mapping[str, JSON]) -> dict[str, JSON]:
        """Check the address (rewriting a service's page address to its feed), the
        language and the entry limit; return the cleaned config."""
        clean = clean_fields(self.fields, config)
        clean["url"] = feed_address(str(clean["url"]))
        if clean.get("lang"):
            code = normalise_lang(str(clean["lang"]))
            if not code:
                raise invalid(
                    "lang", gettext("expected a language code such as fr or en, got %(value)s"),
                    value=repr(clean["lang"]))
            clean["lang"] = code
        bounded_int(clean, "max_items", 1, MAX_ITEMS_LIMIT)
        return clean

    def fetch(self, config: Mapping[str, JSON], cursor: JSON, now: datetime) -> Batch:
        """Read the feed; return its entries not read before (see the module docstring)."""
        url = str(config["url"])
        max_items = int(config.get("max_items") or DEFAULT_MAX_ITEMS)
        max_items = max(1, min(max_items, MAX_ITEMS_LIMIT))
        state = _State.load(cursor, url)
        with HttpClient() as http:
            response = http.get(
                url, headers={"Accept": ACCEPT}, etag=state.etag,
                last_modified=state.modified, now=now,
            )
        if response.not_modified:
            return Batch(items=[], cursor=state.dump(), hint=response.hint())
        parsed = parse_feed(response)
        entries = read_entries(parsed, lang=str(config.get("lang") or ""),
                               base_url=response.url)
        check_readable(parsed, entries, response.url)
        return _select(entries, state, response, parsed, max_items, now)


# --- addresses -----------------------------------------------------------------------


def feed_address(url: str) -> str:
    """The feed address for ``url``: a YouTube channel or playlist page, a Reddit
    search or subreddit page, or a Google News page become their feed; other
    addresses are kept. ConfigInvalid for pages whose feed cannot be derived."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise invalid("url", gettext(
            "the address contains a user name or password; Veilleur keeps feed "
            "addresses in clear, so use a feed that needs no login"))
    host = (parts.hostname or "").lower()
    path = parts.path or "/"
    query = parse_qsl(parts.query, keep_blank_values=True)
    if host in ("youtube.com", "www.youtube.com", "m.youtube.com"):
        return _youtube_feed(url, path, query)
    if host == "reddit.com" or host.endswith(".reddit.com"):
        if ".rss" in path:
            return url
        if path.rstrip("/") == "/search":
            return urlunsplit(("https", "www.reddit.com", "/search.rss", parts.query, ""))
        if re.match(r"^/(?:r|user|u)/[^/]+", path):
            return urlunsplit(("https", "www.reddit.com", path.rstrip("/") + "/.rss",
                               parts.query, ""))
        return url
    if host == "news.google.com" and not path.startswith("/rss"):
        if path.startswith(("/search", "/topics/", "/stories/")):
            return urlunsplit(("https", host, "/rss" + path, parts.query, ""))
        return url
    if host in ("google.com", "www.google.com") and path.rstrip("/") == "/alerts":
        raise invalid("url", gettext(
            "this is the Google Alerts page, not an alert's feed; set the alert's "
            "'Deliver to' option to 'RSS feed' and copy the address of its RSS icon "
            "(https://www.google.com/alerts/feeds/...)"))
    return url


def _youtube_feed(url: str, path: str, query: list[tuple[str, str]]) -> str:
    if path.startswith("/feeds/"):
        return url
    base = "https://www.youtube.com/feeds/videos.xml?"
    channel = re.match(r"^/channel/(UC[\w-]{10,40})/?", path)
    if channel:
        return base + urlencode({"channel_id": channel.group(1)})
    user = re.match(r"^/user/([\w.-]{1,100})/?", path)
    if user:  # legacy user names (not @handles) still have a feed of their own
        return base + urlencode({"user": user.group(1)})
    playlist = dict(query).get("list", "")
    if path.rstrip("/") == "/playlist" and re.fullmatch(r"[\w-]{10,64}", playlist):
        return base + urlencode({"playlist_id": playlist})
    raise invalid("url", gettext(
        "this YouTube page is not a feed; use "
        "https://www.youtube.com/feeds/videos.xml?channel_id=UC... with the channel's id "
        "(on the channel page: About, Share channel, Copy channel ID)"))


# --- decoding and parsing ------------------------------------------------------------


def _codec(label: str) -> str:
    """The codec name for an encoding label ('' when unknown); Latin-1 and ASCII read
    as Windows-1252."""
    try:
        name = codecs.lookup(label.strip()).name
    except (LookupError, ValueError):
        return ""
    return "cp1252" if name in _WINDOWS_1252_ALIASES else name


def decode_feed(content: bytes, content_type: str) -> str:
    """The feed's text, decoded as described in the module docstring."""
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return content[len(bom):].decode(codec, errors="replace")
    header = _CHARSET.search(content_type or "")
    prolog = _PROLOG_ENCODING.match(content[:300])
    labels = [
        _codec(header.group(1)) if header else "",
        _codec(prolog.group(1).decode("ascii")) if prolog else "",
    ]
    # A UTF-16/32 label on a body with no NUL byte is a leftover of a re-encoding.
    wide = b"\x00" in content[:64]
    codecs_found = [c for c in labels if c and (wide or not c.startswith(("utf-16", "utf-32")))]
    try:
        utf8: str | None = content.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    if utf8 is not None and all(c in ("utf-8", "cp1252") for c in codecs_found):
        return utf8
    for codec in codecs_found:
        try:
            return content.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    if utf8 is not None:
        return utf8
    return content.decode("cp1252", errors="replace")


def parse_feed(response: Response) -> Any:
    """feedparser's result for the response body; SourceError when it holds no feed."""
    where = describe(response.url)
    content_type = response.headers.get("content-type", "")
    if not response.content.strip():
        raise SourceError(
            f"{where}: the address did not return an RSS or Atom feed (the response "
            "was empty)")
    text = decode_feed(response.content, content_type).lstrip("\ufeff")
    data = _DECLARATION.sub(r'\1encoding="utf-8"', text, count=1).encode("utf-8")
    # No Content-Location: feedparser would resolve every entry id against it (a
    # Reddit id "t3_x" would become "https://host/t3_x"); links are resolved here.
    headers = {"content-type": "application/xml; charset=utf-8"}
    language = response.headers.get("content-language", "").strip()
    if language:
        headers["content-language"] = language
    # A stream, never a string: given a string feedparser may fetch URLs or open files.
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    if not parsed.get("version"):
        raise SourceError(_not_a_feed(where, text, content_type, len(response.content),
                                      response.url))
    return parsed


def check_readable(parsed: Any, entries: list[Entry], url: str) -> None:
    """A feed that is not well-formed is accepted (quietly) when entries could be read
    from it; SourceError when none could."""
    if not parsed.get("bozo"):
        return
    reason = _bozo_reason(parsed)
    if not entries:
        raise SourceError(
            f"{describe(url)}: the feed is malformed and no entry could be read ({reason})")
    log.debug("feed %s is not well-formed but readable: %s", describe(url), reason)


def _bozo_reason(parsed: Any) -> str:
    error = parsed.get("bozo_exception")
    text = str(error) if error is not None else "unknown error"
    return re.sub(r"^<unknown>:", "line ", text)[:200]


def _not_a_feed(where: str, text: str, content_type: str, size: int, url: str) -> str:
    message = f"{where}: the address did not return an RSS or Atom feed"
    head = text[:4096].lower()
    if "<html" in head or "<!doctype html" in head or "<body" in head:
        found = discover_feed(text, url)
        if found:
            return (f"{message} but a web page; the page names a feed at "
                    f"{describe(found)}: use that address")
        return f"{message} but a web page"
    kind = content_type.split(";")[0].strip() or "no content type"
    return f"{message} ({size} bytes of {kind})"


def discover_feed(html: str, base_url: str) -> str:
    """The first RSS/Atom feed an HTML page names in ``<link rel="alternate">``."""
    for tag in _LINK_TAG.findall(html[:200_000]):
        attrs = {m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
                 for m in _ATTRIBUTE.finditer(tag)}
        if ("alternate" in attrs.get("rel", "").lower().split()
                and attrs.get("type", "").lower() in _FEED_TYPES and attrs.get("href")):
            found = urljoin(base_url, attrs["href"].strip())
            if urlsplit(found).scheme in ("http", "https"):
                return found
    return ""


# --- entries -------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One feed entry, mapped, with what the cursor needs to know of it."""

    item: RawItem
    digest: str
    published: datetime | None


def _digest(value: str, size: int = 12) -> str:
    return hashlib.sha1(value.encode("utf-8"), usedforsecurity=False).hexdigest()[:size]


def _when(entry: Any) -> datetime | None:
    """published, else updated: feedparser's ``*_parsed`` are UTC struct_time."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            try:
                return datetime(*value[:6], tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    return None


def _text_of(detail: Any) -> str:
    """Plain text of a feedparser text construct (``title_detail``, ``content[i]``)."""
    if not detail:
        return ""
    value = str(detail.get("value") or "")
    kind = str(detail.get("type") or "")
    if "html" in kind:
        return html_to_text(value)
    return value.strip()


def _entry_id(entry: Any) -> str:
    """id/guid, else the link, else a hash of title and published date."""
    for key in ("id", "link"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    title = str(entry.get("title") or "")
    when = str(entry.get("published") or entry.get("updated") or "")
    basis = f"{title}\n{when}"
    if not title and not when:
        basis += "\n" + str(entry.get("summary") or "")[:2000]
    return "sha1:" + _digest(basis, 40)


def _bounded_id(value: str) -> str:
    return value if len(value) <= MAX_ID_CHARS else "sha1:" + _digest(value, 40)


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def unwrap_google_redirect(url: str) -> str:
    """The target of a ``google.<tld>/url?...&url=REAL`` link (Google Alerts); else url."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    if parts.path != "/url" or not re.fullmatch(r"(?:www\.)?google\.[a-z.]{2,6}", host):
        return url
    params = dict(parse_qsl(parts.query))
    target = params.get("url") or params.get("q") or ""
    try:
        return target if urlsplit(target).scheme in ("http", "https") else url
    except ValueError:
        return url


def _language(entry: Any, feed_language: str) -> str:
    for detail in (*(entry.get("content") or []), entry.get("summary_detail"),
                   entry.get("title_detail")):
        if detail and detail.get("language"):
            return normalise_lang(str(detail["language"]))
    return normalise_lang(feed_language)


def _body(entry: Any) -> str:
    """The entry's text: its fullest content, else its summary."""
    contents = [c for c in entry.get("content") or [] if c.get("value")]
    if contents:
        return _text_of(max(contents, key=lambda c: len(str(c.get("value")))))
    return _text_of(entry.get("summary_detail"))


def _int(value: Any) -> int | None:
    try:
        return max(0, int(str(value).strip()))
    except (TypeError, ValueError):
        return None


def read_entries(parsed: Any, lang: str = "", base_url: str = "") -> list[Entry]:
    """Map every entry of a parsed feed (newest first, at most MAX_FEED_ENTRIES).

    Entries with neither title nor text are left out. ``lang`` (the source's setting)
    wins over the languages the feed declares; relative links are resolved against
    ``base_url`` (the address fetched).

    Entries that repeat an id (the same entry twice) are read once; different
    entries sharing an id get their link added to it.
    """
    feed_language = str(parsed.feed.get("language") or "")
    raw = [(entry, _entry_id(entry)) for entry in parsed.entries]
    owners: dict[str, set[tuple[str, str]]] = {}
    for entry, key in raw:
        owners.setdefault(key, set()).add((str(entry.get("link") or ""),
                                           str(entry.get("title") or "")))
    out: dict[str, Entry] = {}
    for entry, key in raw:
        if len(owners[key]) > 1:
            key = f"{key}#{entry.get('link') or _digest(str(entry.get('title') or ''), 16)}"
        external_id = _bounded_id(key)
        if external_id in out:
            continue
        item = map_entry(entry, external_id, lang or _language(entry, feed_language),
                         base_url)
        if not item.title and not item.text:
            continue  # nothing to read (a fragment of a broken feed)
        out[external_id] = Entry(item=item, digest=_digest(external_id),
                                 published=item.published_at)
    entries = list(out.values())
    # Newest first; undated entries after the dated ones, in feed order.
    entries.sort(key=lambda e: e.published or datetime.min.replace(tzinfo=UTC), reverse=True)
    return entries[:MAX_FEED_ENTRIES]


def _absolute(url: str, base_url: str) -> str:
    url = url.strip()
    if not url or not base_url:
        return url
    try:
        return urljoin(base_url, url)
    except ValueError:
        return url


def map_entry(entry: Any, external_id: str, lang: str, base_url: str = "") -> RawItem:
    """One feedparser entry as a RawItem (with the Google/Reddit/YouTube specifics)."""
    link = unwrap_google_redirect(_absolute(str(entry.get("link") or ""), base_url))
    title = _text_of(entry.get("title_detail")) or str(entry.get("title") or "").strip()
    detail = entry.get("author_detail") or {}
    author = str(detail.get("name") or "").strip()
    if not author and "@" not in str(entry.get("author") or ""):
        author = str(entry.get("author") or "").strip()
    fields: dict[str, Any] = {
        "external_id": external_id, "published_at": _when(entry), "url": link,
        "title": title, "author_handle": author, "author_name": author,
        "author_url": _absolute(str(detail.get("href") or ""), base_url), "lang_hint": lang,
    }
    extra: dict[str, Any] = {"item_type": "article"}
    if entry.get("yt_videoid"):
        _youtube(entry, fields, extra)
    elif _REDDIT_THING.match(str(entry.get("id") or "")) and _host(link).endswith("reddit.com"):
        _reddit(entry, link, fields, extra)
    elif _host(link) == "news.google.com":
        fields["text"] = _body(entry)
        _google_news(entry, fields)
    if "text" not in fields:
        fields["text"] = _body(entry)
    return RawItem(extra=extra, **fields)


def _youtube(entry: Any, fields: dict[str, Any], extra: dict[str, Any]) -> None:
    # media:description is plain text (feedparser labels it HTML): keep its lines.
    fields["text"] = str(entry.get("summary") or "").strip()
    fields["platform"] = "youtube"
    channel = str(entry.get("yt_channelid") or "")
    if channel:
        fields["author_handle"] = channel
    extra["item_type"] = "video"
    extra["video_id"] = str(entry.get("yt_videoid"))
    views = _int((entry.get("media_statistics") or {}).get("views"))
    if views is not None:
        extra["score"] = views
    likes = _int((entry.get("media_starrating") or {}).get("count"))
    if likes is not None:
        extra["likes"] = likes


def _reddit(entry: Any, link: str, fields: dict[str, Any], extra: dict[str, Any]) -> None:
    thing = _REDDIT_THING.match(str(entry.get("id")))
    assert thing is not None
    fields["platform"] = "reddit"
    name = re.sub(r"^/?u/", "", str(fields["author_name"]))
    if name and name != "[deleted]":
        fields["author_handle"] = name
        fields["author_name"] = f"/u/{name}"
    else:
        fields["author_handle"] = fields["author_name"] = ""
    html = ""
    contents = entry.get("content") or []
    if contents:
        html = str(contents[0].get("value") or "")
    elif entry.get("summary"):
        html = str(entry.get("summary"))
    fields["text"] = html_to_text(_strip_reddit_trailer(html))
    for tag in entry.get("tags") or []:
        label = str(tag.get("label") or "")
        subreddit = label[2:] if label.startswith("r/") else str(tag.get("term") or "")
        if subreddit:
            extra["subreddit"] = subreddit
            break
    if thing.group(1) == "1":
        extra["item_type"] = "comment"
        post = _REDDIT_COMMENTS.search(link)
        if post:
            extra["thread_id"] = f"t3_{post.group(1)}"
    else:
        extra["item_type"] = "post"


def _strip_reddit_trailer(html: str) -> str:
    """A Reddit entry's HTML without the "submitted by /u/x [link] [comments]" tail."""
    if "<!-- SC_ON -->" in html:
        return html.split("<!-- SC_ON -->", 1)[0]
    cut = html.rfind("submitted by")
    if cut >= 0 and ("[link]" in html[cut:] or "/u/" in html[cut:]):
        return html[:cut]
    return html


def _google_news(entry: Any, fields: dict[str, Any]) -> None:
    source = entry.get("source") or {}
    publisher = str(source.get("title") or "").strip()
    if not publisher:
        return
    suffix = f" - {publisher}"
    title = str(fields["title"])
    if title.endswith(suffix):
        title = title[: -len(suffix)].rstrip()
        fields["title"] = title
    text = str(fields.get("text") or "")
    if text.endswith(publisher):
        headline = text[: -len(publisher)].strip()
        if headline == title:  # the description only repeats headline and publisher
            fields["text"] = ""
    site = str(source.get("href") or "")
    fields["platform"] = "news"
    fields["author_name"] = publisher
    fields["author_handle"] = re.sub(r"^www\.", "", _host(site)) or publisher
    fields["author_url"] = site


# --- cursor and selection ------------------------------------------------------------


@dataclass
class _State:
    feed: str
    etag: str = ""
    modified: str = ""
    newest: datetime | None = None
    seen: tuple[str, ...] = ()
    backlog: int = 0  # immediate follow-up polls of the backlog being read

    @classmethod
    def load(cls, cursor: JSON, url: str) -> _State:
        """The cursor's state for this address; a fresh one when it does not fit."""
        feed = _digest(url)
        if not isinstance(cursor, dict) or cursor.get("v") != CURSOR_VERSION:
            return cls(feed=feed)
        if cursor.get("feed") != feed:
            return cls(feed=feed)
        newest = None
        if isinstance(cursor.get("newest"), str):
            try:
                newest = datetime.fromisoformat(cursor["newest"])
            except ValueError:
                newest = None
            if newest is not None and newest.tzinfo is None:
                newest = newest.replace(tzinfo=UTC)
        seen = cursor.get("seen")
        backlog = cursor.get("backlog")
        return cls(
            feed=feed,
            etag=_validator(cursor.get("etag")),
            modified=_validator(cursor.get("modified")),
            newest=newest,
            seen=tuple(s for s in seen if isinstance(s, str))[:SEEN_MAX]
            if isinstance(seen, list) else (),
            backlog=backlog if isinstance(backlog, int) and backlog > 0 else 0,
        )

    def dump(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {
            "v": CURSOR_VERSION,
            "feed": self.feed,
            "etag": self.etag,
            "modified": self.modified,
            "newest": self.newest.isoformat() if self.newest else None,
            "seen": list(self.seen),
        }
        if self.backlog:
            out["backlog"] = self.backlog
        return out


def _validator(value: Any) -> str:
    return value if isinstance(value, str) and len(value) <= MAX_VALIDATOR_CHARS else ""


def _ordered_unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def ttl_seconds(parsed: Any) -> float | None:
    """The feed's ``<ttl>`` (minutes) in seconds, bounded; None when absent or junk."""
    minutes = _int(parsed.feed.get("ttl"))
    if not minutes:
        return None
    return float(min(minutes * 60, MAX_TTL_SECONDS))


def _select(
    entries: list[Entry], state: _State, response: Response, parsed: Any, max_items: int,
    now: datetime,
) -> Batch:
    seen = set(state.seen)
    guard = state.newest - OLD_ENTRY_WINDOW if state.newest else None
    done: list[str] = []
    fresh: list[Entry] = []
    for entry in entries:
        if entry.digest in seen or (guard and entry.published and entry.published < guard):
            done.append(entry.digest)
        else:
            fresh.append(entry)
    emitted, pending = fresh[:max_items], fresh[max_items:]
    done.extend(entry.digest for entry in emitted)
    in_feed = {entry.digest for entry in entries}
    cap = min(SEEN_MAX, max(SEEN_MIN, 2 * len(entries)))
    # Entries of this feed first (newest first), then older memories.
    finished = set(done)
    order = [e.digest for e in entries if e.digest in finished]
    remembered = _ordered_unique([*order, *(s for s in state.seen if s not in in_feed)])[:cap]
    # One feed document holds at most MAX_FEED_ENTRIES entries: a real backlog is read
    # within this many follow-up polls. A feed whose ids change at every request
    # would otherwise have "new" entries left over, and ask for a re-poll at once,
    # for ever; past the bound the rest waits for the next ordinary poll.
    more = bool(pending) and state.backlog < -(-MAX_FEED_ENTRIES // max_items)
    newest = state.newest
    if not more:
        dated = [min(e.published, now) for e in entries if e.published is not None]
        if dated:
            newest = max([*dated, *([newest] if newest else [])])
    cursor = _State(
        feed=state.feed,
        # While a backlog remains, the next fetch must not be answered 304.
        etag="" if more else _validator(response.etag),
        modified="" if more else _validator(response.last_modified),
        newest=newest,
        seen=tuple(remembered),
        backlog=state.backlog + 1 if more else 0,
    )
    hint = PollHint() if more else _hint(response, parsed)
    return Batch(items=[e.item for e in emitted], cursor=cursor.dump(), hint=hint, more=more)


def _hint(response: Response, parsed: Any) -> PollHint:
    waits = [response.hint().retry_after, ttl_seconds(parsed)]
    found = [w for w in waits if w is not None]
    return PollHint(retry_after=max(found) if found else None)
