"""Feed documents: the address to fetch, the bytes decoded, the XML parsed.

Part of the ``rss`` connector (docs/sources/rss.md). Page addresses of YouTube
channels, Reddit searches and Google News are turned into their feed addresses; bytes
are decoded the way browsers read XML (byte-order mark, then the Content-Type charset,
then the XML declaration; Latin-1 labels read as Windows-1252); feedparser only ever
gets those bytes, never a URL; an HTML page is searched for the feed it links.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
from django.utils.translation import gettext

from veilleur.connectors.base import SourceError
from veilleur.connectors.feed_entries import Entry
from veilleur.connectors.fields import invalid
from veilleur.connectors.http import Response, describe

log = logging.getLogger(__name__)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WINDOWS_1252_ALIASES = frozenset({"iso8859-1", "ascii", "cp1252"})
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\"';\s]+)", re.IGNORECASE)
_PROLOG_ENCODING = re.compile(
    rb"^\s*<\?xml\b[^>]{0,200}?\bencoding\s*=\s*[\"']([A-Za-z0-9._:-]{1,40})[\"']")
_DECLARATION = re.compile(r"^(\s*<\?xml\b[^>]{0,200}?)\bencoding\s*=\s*([\"'])[^\"']*\2")
_LINK_TAG = re.compile(r"<link\b[^<>]*>", re.IGNORECASE)  # no "<" inside: linear
_ATTRIBUTE = re.compile(r"([a-zA-Z-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))")
_FEED_TYPES = ("application/rss+xml", "application/atom+xml")


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
