"""RSS and Atom feeds: news sites, blogs, forums, Google Alerts, Google News, Reddit
search, YouTube channels (docs/sources/rss.md).

This module holds the connector, its cursor and the choice of entries; reading a
feed document is in ``feed_documents`` and mapping its entries in ``feed_entries``.

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

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from veilleur.connectors.base import (
    JSON,
    Batch,
    ConfigField,
    PollHint,
)
from veilleur.connectors.feed_documents import check_readable, feed_address, parse_feed
from veilleur.connectors.feed_entries import (
    MAX_FEED_ENTRIES,
    Entry,
    digest,
    read_entries,
    whole_number,
)
from veilleur.connectors.fields import bounded_int, clean_fields, invalid
from veilleur.connectors.http import MAX_CACHE_SECONDS, HttpClient, Response
from veilleur.connectors.vendor_formats import normalise_lang

log = logging.getLogger(__name__)

DEFAULT_MAX_ITEMS = 100
MAX_ITEMS_LIMIT = 500
SEEN_MIN = 200
SEEN_MAX = 2000
OLD_ENTRY_WINDOW = timedelta(days=30)
MAX_TTL_SECONDS = MAX_CACHE_SECONDS
MAX_VALIDATOR_CHARS = 512  # ETag / Last-Modified kept in the cursor
CURSOR_VERSION = 1
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.1"
)


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
        feed = digest(url)
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
    minutes = whole_number(parsed.feed.get("ttl"))
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
