"""Feed entries as mentions: ids, dates, text, authors, and what each service adds.

Part of the ``rss`` connector (docs/sources/rss.md): Google Alerts links are
unwrapped, Google News titles lose their publisher suffix, Reddit entries get their
author, subreddit and thread, YouTube entries their channel and view count.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from veilleur.connectors.base import RawItem
from veilleur.connectors.html_text import html_to_text
from veilleur.connectors.vendor_formats import normalise_lang

log = logging.getLogger(__name__)

MAX_FEED_ENTRIES = 1000  # entries read from one feed document, newest first
MAX_ID_CHARS = 400  # longer ids are hashed (the mention's external id holds 512)
_REDDIT_THING = re.compile(r"^t([13])_([0-9a-z]+)$")
_REDDIT_COMMENTS = re.compile(r"/comments/([0-9a-z]+)(?:/|$)")


@dataclass(frozen=True)
class Entry:
    """One feed entry, mapped, with what the cursor needs to know of it."""

    item: RawItem
    digest: str
    published: datetime | None


def digest(value: str, size: int = 12) -> str:
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
    return "sha1:" + digest(basis, 40)


def _bounded_id(value: str) -> str:
    return value if len(value) <= MAX_ID_CHARS else "sha1:" + digest(value, 40)


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


def whole_number(value: Any) -> int | None:
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
            key = f"{key}#{entry.get('link') or digest(str(entry.get('title') or ''), 16)}"
        external_id = _bounded_id(key)
        if external_id in out:
            continue
        item = map_entry(entry, external_id, lang or _language(entry, feed_language),
                         base_url)
        if not item.title and not item.text:
            continue  # nothing to read (a fragment of a broken feed)
        out[external_id] = Entry(item=item, digest=digest(external_id),
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
    views = whole_number((entry.get("media_statistics") or {}).get("views"))
    if views is not None:
        extra["score"] = views
    likes = whole_number((entry.get("media_starrating") or {}).get("count"))
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
