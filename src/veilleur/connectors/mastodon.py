"""Mastodon: posts under hashtags, full-text search results, or an account's mentions.

Three modes, all on one instance's REST API (docs/sources/mastodon.md):

- ``hashtag``: ``GET /api/v1/timelines/tag/:hashtag`` for each configured hashtag.
  Public on most instances; an access token is sent when one is configured (some
  instances only serve tag timelines to signed-in users).
- ``search``: ``GET /api/v2/search?type=statuses``. Needs an access token (without
  one Mastodon returns accounts and hashtags, never posts), and finds posts only on
  instances running full-text search (Elasticsearch/OpenSearch); since 4.2 only
  posts of accounts that opted in to search ("indexable"), plus the token owner's
  own, favourited, bookmarked and mentioning posts. Elsewhere it finds nothing,
  which the API cannot tell apart from "no new posts": the docs say so.
- ``notifications``: the token owner's mentions, ``GET /api/v1/notifications``
  with ``types[]=mention``. Nothing is marked as read.

Why not Mastodon.py: it sends its requests through ``requests``, which would bypass
``HttpClient`` -- the SSRF guard that checks every address actually connected to
(an instance URL is user input), the body size limit and the bounded timeouts. The
few documented endpoints above are called with ``HttpClient`` instead.

Ids are per instance (the same post has a different id on every server that knows
it), so external ids are ``<instance host>:<status id>``. The cursor keeps, per
stream (each hashtag, the search query, the mentions), the ``min_id`` to resume
from: pages are walked forward from it with ``min_id`` -- the page immediately newer
than the cursor, so a backlog is read in order without gaps -- following the
``Link`` header's ``prev`` relation, a bounded number of pages per fetch. The first
poll reads the newest page and a few older ones (``next``), not the whole history.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

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
from veilleur.connectors.fields import clean_fields, invalid
from veilleur.connectors.html_text import html_to_text
from veilleur.connectors.http import HttpClient, Response, describe, error_for_status, wait_hint
from veilleur.connectors.timestamps import parse_iso

PAGE_LIMIT = 40  # Mastodon's maximum for timelines, notifications and search
MAX_PAGES_PER_FETCH = 10  # requests per fetch, shared by all streams
FIRST_POLL_PAGES = 3  # the newest page and two older ones on a source's first poll
MAX_ITEMS = 200
MAX_HASHTAGS = 10
MAX_SEARCH_OFFSET = 400  # a search backlog deeper than this is skipped, not paged forever
MAX_ID_CHARS = 64  # ids are short (snowflakes, flakes, ULIDs): longer ones stay out of cursors
LOW_REMAINING = 5  # stop paging when the rate limit is this close to exhausted
CURSOR_VERSION = 1
# Followers-only and direct posts are private conversations: never stored.
PUBLIC_VISIBILITIES = frozenset({"public", "unlisted"})
_HASHTAG = re.compile(r"^\w[\w\u00b7\u200c]*$")
_LINK = re.compile(r"<([^<>]*)>\s*;([^,<]*)")  # no "<" inside: linear on a hostile header
_REL = re.compile(r"""rel\s*=\s*"?([^";]+)"?""", re.IGNORECASE)
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})

MODES = (
    ("hashtag", _("Hashtags (public tag timelines)")),
    ("search", _("Full-text search (needs an access token)")),
    ("notifications", _("Mentions of my account (needs an access token)")),
)


def _id_key(value: str) -> tuple[int, str]:
    """Order Mastodon ids: decimal snowflakes compare as numbers, flake ids as text."""
    return (len(value), value)


def _newest(ids: Iterable[str], current: str | None = None) -> str | None:
    best = current
    for value in ids:
        if len(value) > MAX_ID_CHARS:
            continue  # the cursor keeps what the server sends: keep it small
        if best is None or _id_key(value) > _id_key(best):
            best = value
    return best


def parse_links(header: str) -> dict[str, dict[str, str]]:
    """``Link`` header -> {rel: {"min_id"|"max_id"|"since_id": value}}.

    Only the paging ids are kept: the next request is built on the configured
    instance, never sent to whatever address the header names.
    """
    links: dict[str, dict[str, str]] = {}
    for url, attrs in _LINK.findall(header or ""):
        rel = _REL.search(attrs)
        if not rel:
            continue
        query = parse_qs(urlsplit(url).query)
        ids = {key: query[key][0] for key in ("min_id", "max_id", "since_id") if query.get(key)}
        for name in rel.group(1).split():
            links[name.lower()] = ids
    return links


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def map_status(status: Mapping[str, Any], host: str, domain: str = "") -> RawItem | None:
    """A Mastodon Status entity as a RawItem; None for non-public or unusable statuses.

    ``host`` (the instance's host and port) prefixes the ids; ``domain`` (its host
    name, by default ``host``) completes the handles of local accounts.

    A boost (``reblog`` set) is mapped as the boosted post itself, so a post boosted
    many times is one mention.
    """
    reblog = status.get("reblog")
    if isinstance(reblog, Mapping):
        status = reblog
    if status.get("visibility") not in PUBLIC_VISIBILITIES:
        return None
    status_id = status.get("id")
    if not isinstance(status_id, str | int) or isinstance(status_id, bool):
        return None
    account_value = status.get("account")
    account: Mapping[str, Any] = account_value if isinstance(account_value, Mapping) else {}
    acct = str(account.get("acct") or account.get("username") or "")
    handle = ""
    if acct:
        handle = f"@{acct}" if "@" in acct else f"@{acct}@{domain or host}"
    parts = [html_to_text(str(status.get("content") or ""))]
    for media in status.get("media_attachments") or []:
        if isinstance(media, Mapping) and isinstance(media.get("description"), str):
            description = " ".join(media["description"].split())
            if description:
                parts.append(f"[{media.get('type') or 'media'}: {description}]")
    favourites = _count(status.get("favourites_count"))
    reblogs = _count(status.get("reblogs_count"))
    replies = _count(status.get("replies_count"))
    parent = status.get("in_reply_to_id")
    extra: dict[str, JSON] = {"item_type": "comment" if parent else "post"}
    if parent:
        extra["parent_id"] = f"{host}:{parent}"
    if favourites is not None or reblogs is not None:
        extra["score"] = (favourites or 0) + (reblogs or 0)
    for key, value in (("favourites", favourites), ("reblogs", reblogs), ("replies", replies)):
        if value is not None:
            extra[key] = value
    if isinstance(status.get("uri"), str):
        extra["uri"] = status["uri"]  # the ActivityPub id: the same on every instance
    if account.get("bot") is True:
        extra["author_bot"] = True
    if status.get("sensitive") is True:
        extra["sensitive"] = True
    language = status.get("language")
    return RawItem(
        external_id=f"{host}:{status_id}",
        text="\n\n".join(part for part in parts if part),
        title=" ".join(str(status.get("spoiler_text") or "").split()),
        published_at=parse_iso(status.get("created_at")),
        url=str(status.get("url") or status.get("uri") or ""),
        author_handle=handle,
        author_name=str(account.get("display_name") or account.get("username") or ""),
        author_url=str(account.get("url") or ""),
        author_followers=_count(account.get("followers_count")),
        lang_hint=language.split("-")[0].lower() if isinstance(language, str) else "",
        extra=extra,
    )


def _needs_https(name: str, url: str) -> None:
    """Refuse sending a credential over plain http (loopback aside: tests, a local proxy)."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "http" and (parts.hostname or "") not in _LOOPBACK:
        raise invalid(
            name, gettext("the access token would travel unencrypted over http://; use https://"))


@dataclass
class _Fetch:
    """What one fetch has gathered so far, across its streams."""

    host: str
    domain: str
    items: dict[str, RawItem] = field(default_factory=dict)
    requests: int = 0
    waits: list[float] = field(default_factory=list)
    exhausted: bool = False  # the rate limit is nearly spent: no more requests now
    more: bool = False

    def budget_left(self) -> bool:
        return (not self.exhausted and self.requests < MAX_PAGES_PER_FETCH
                and len(self.items) < MAX_ITEMS)

    def add(self, statuses: Iterable[Any]) -> None:
        for status in statuses:
            if not isinstance(status, Mapping):
                continue
            item = map_status(status, self.host, self.domain)
            if item is not None:
                self.items.setdefault(item.external_id, item)


class MastodonConnector:
    """Hashtag timelines, search or mentions of one Mastodon instance."""

    kind = "mastodon"
    platform = "mastodon"
    label = _("Mastodon")
    fields = (
        ConfigField(
            "instance", _("Instance"), "url", required=True,
            help=_("Address of the Mastodon server to read from, e.g. https://mastodon.social. "
                   "Hashtags and search only see the posts this server knows about.")),
        ConfigField(
            "mode", _("What to read"), "choice", default="hashtag", choices=MODES,
            help=_("Hashtag timelines are public. Search needs an access token and finds "
                   "posts only on servers with full-text search, and since Mastodon 4.2 only "
                   "posts of accounts that opted in to being searchable. Mentions need a "
                   "token of the monitored account.")),
        ConfigField(
            "hashtags", _("Hashtags"), "lines",
            help=_("One hashtag per line, with or without #; hashtag mode only "
                   "(at most 10).")),
        ConfigField(
            "query", _("Search query"), "text",
            help=_("Words to search for; search mode only.")),
        ConfigField(
            "access_token", _("Access token"), "secret",
            help=_("Required for search (scope read:search) and mentions (scope "
                   "read:notifications); optional for hashtags. Create it under "
                   "Preferences > Development > New application.")),
    )

    def coverage(self, config: Mapping[str, JSON]) -> list[str]:
        mode = str(config.get("mode") or "hashtag")
        if mode == "hashtag":
            return [gettext("Only posts carrying the listed hashtags, as this instance knows "
                            "them (its own posts and those of accounts its users follow).")]
        if mode == "search":
            return [gettext("Mastodon's search finds only posts whose authors opted in to "
                            "being searchable (Mastodon 4.2 and later), on this instance.")]
        return []

    def validate_config(self, config: Mapping[str, JSON]) -> dict[str, JSON]:
        config = dict(config)
        instance = config.get("instance")
        if isinstance(instance, str) and instance.strip() and "://" not in instance:
            config["instance"] = f"https://{instance.strip()}"
        clean = clean_fields(self.fields, config)
        parts = urlsplit(clean["instance"])
        if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
            raise invalid("instance", gettext(
                "give the server's address only (like https://mastodon.social), "
                "not a page on it"))
        clean["instance"] = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        mode, token = clean["mode"], clean.get("access_token", "")
        if token:
            _needs_https("access_token", clean["instance"])
        if mode == "hashtag":
            tags: list[str] = []
            for raw in clean.get("hashtags", []):
                tag = raw.lstrip("#").strip()
                if not _HASHTAG.match(tag):
                    raise invalid(
                        "hashtags",
                        gettext("%(value)s is not a hashtag (letters, digits and _ only)"),
                        value=repr(raw))
                if tag.casefold() not in {t.casefold() for t in tags}:
                    tags.append(tag)
            if not tags:
                raise invalid(
                    "hashtags", gettext("at least one hashtag is required in hashtag mode"))
            if len(tags) > MAX_HASHTAGS:
                raise invalid("hashtags", gettext("at most %(limit)s per source"),
                              limit=MAX_HASHTAGS)
            clean["hashtags"] = tags
        elif mode == "search":
            if not clean.get("query"):
                raise invalid("query", gettext("required in search mode"))
            if not token:
                raise invalid("access_token", gettext(
                    "required in search mode: without a token Mastodon's "
                    "search returns only accounts and hashtags, never posts"))
        elif not token:
            raise invalid("access_token", gettext(
                "required to read the mentions of an account (scope "
                "read:notifications)"))
        return clean

    # -- fetching -------------------------------------------------------------------

    def fetch(self, config: Mapping[str, JSON], cursor: JSON, now: datetime) -> Batch:
        instance = str(config["instance"]).rstrip("/")
        mode = str(config.get("mode") or "hashtag")
        token = str(config.get("access_token") or "")
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        previous = cursor if isinstance(cursor, dict) else {}
        if previous.get("v") != CURSOR_VERSION or previous.get("instance") != instance \
                or previous.get("mode") != mode:
            previous = {}  # another server or mode: ids from the old one mean nothing here
        old_value = previous.get("streams")
        old_streams: dict[str, Any] = old_value if isinstance(old_value, dict) else {}
        streams: dict[str, JSON] = {}
        parts = urlsplit(instance)
        state = _Fetch(host=parts.netloc, domain=parts.hostname or parts.netloc)
        with HttpClient() as http:
            call = _Caller(http, instance, headers, mode, now, state)
            if mode == "hashtag":
                tags = [str(tag) for tag in config.get("hashtags") or []]
                per_tag = max(1, MAX_PAGES_PER_FETCH // max(1, len(tags)))
                for tag in tags:
                    key = f"tag:{tag.casefold()}"
                    path = f"/api/v1/timelines/tag/{quote(tag, safe='')}"
                    streams[key] = call.walk(path, {}, _stream(old_streams, key), per_tag)
            elif mode == "notifications":
                key = "mentions"
                streams[key] = call.walk(
                    "/api/v1/notifications", {"types[]": "mention"},
                    _stream(old_streams, key), MAX_PAGES_PER_FETCH)
            else:
                query = str(config.get("query") or "")
                key = f"search:{query}"
                streams[key] = call.search(query, _stream(old_streams, key))
        retry = max(state.waits) if state.waits else None
        return Batch(
            items=list(state.items.values()),
            cursor={"v": CURSOR_VERSION, "instance": instance, "mode": mode, "streams": streams},
            hint=PollHint(retry_after=retry),
            more=state.more and not state.exhausted,
        )


def _server_said(response: Response) -> str:
    """``, <the error text of a Mastodon error body>`` (bounded), or ''."""
    try:
        body = response.json()
    except SourceError:
        return ""
    text = body.get("error") if isinstance(body, Mapping) else None
    return f", {' '.join(text.split())[:200]}" if isinstance(text, str) and text.strip() else ""


def _stream(streams: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = streams.get(key)
    return dict(value) if isinstance(value, dict) else {}


class _Caller:
    """The requests of one fetch: errors explained, rate limits watched."""

    def __init__(self, http: HttpClient, instance: str, headers: Mapping[str, str], mode: str,
                 now: datetime, state: _Fetch) -> None:
        self.http, self.instance, self.headers = http, instance, headers
        self.mode, self.now, self.state = mode, now, state

    def get(self, path: str, params: Mapping[str, Any]) -> tuple[Any, Response]:
        self.state.requests += 1
        response = self.http.get(self.instance + path, params=params, headers=self.headers,
                                 check=False, now=self.now)
        error = error_for_status(response)
        if error is not None:
            raise self._explain(error, response)
        self._watch_rate_limit(response)
        return response.json(), response

    def _explain(self, error: SourceError, response: Response) -> SourceError:
        """Add what the status means for this mode to the generic message."""
        status, where = response.status, describe(response.url)
        authed = "Authorization" in self.headers
        said = _server_said(response)
        if status in (401, 403):
            if self.mode == "hashtag" and not authed:
                advice = ("this server serves hashtag timelines only to signed-in users: "
                          "add an access_token")
            elif self.mode == "search":
                advice = ("search needs a valid access token with the read:search scope; "
                          "without one Mastodon returns only accounts and hashtags")
            elif self.mode == "notifications":
                advice = "the access token needs the read:notifications scope"
            else:
                advice = "check the access token (revoked? wrong instance?)"
            return SourceError(f"{where} refused access (HTTP {status}{said}): {advice}",
                               permanent=True)
        if status == 422 and not authed:
            return SourceError(
                f"{where} refused the request (HTTP 422{said}): this server requires a "
                "signed-in user here: add an access_token", permanent=True)
        if status == 404:
            return SourceError(f"{where} was not found (HTTP 404): is {self.instance} a "
                               "Mastodon server, and is the API enabled?", permanent=True)
        return error

    def _watch_rate_limit(self, response: Response) -> None:
        """Obey an exhausted limit (hint), and stop paging shortly before exhausting it."""
        hint = response.hint(honour_cache=False).retry_after
        if hint is not None:
            self.state.waits.append(hint)
        remaining = response.headers.get("x-ratelimit-remaining", "").strip()
        if remaining.isdigit() and int(remaining) <= LOW_REMAINING:
            self.state.exhausted = True
            reset = response.headers.get("x-ratelimit-reset", "")
            # The reset is an ISO 8601 time on Mastodon; wait_hint reads it as a date.
            wait = wait_hint({"retry-after": reset}, response.fetched_at) if reset else None
            if wait is not None:
                self.state.waits.append(wait)

    def _list(self, data: Any, response: Response) -> list[Any]:
        if not isinstance(data, list):
            raise SourceError(f"{describe(response.url)} did not answer like a Mastodon server "
                              "(expected a list)")
        return data

    def _statuses(self, entries: list[Any]) -> list[Any]:
        if self.mode != "notifications":
            return entries
        return [entry.get("status") for entry in entries
                if isinstance(entry, Mapping) and entry.get("type") == "mention"
                and isinstance(entry.get("status"), Mapping)]

    @staticmethod
    def _ids(entries: list[Any]) -> list[str]:
        return [str(entry["id"]) for entry in entries
                if isinstance(entry, Mapping) and isinstance(entry.get("id"), str | int)]

    def walk(self, path: str, params: Mapping[str, Any], stream: dict[str, Any],
             pages: int) -> dict[str, Any]:
        """Read a Link-paginated list from the stream's ``min_id``; return its new state."""
        if not self.state.budget_left():
            self.state.more = True
            return stream  # this stream waits for the next fetch, where it was
        min_id = stream.get("min_id")
        if not isinstance(min_id, str) or not min_id:
            return self._first_walk(path, params)
        for _page in range(pages):
            if not self.state.budget_left():
                self.state.more = True
                break
            data, response = self.get(path, {**params, "limit": PAGE_LIMIT, "min_id": min_id})
            entries = self._list(data, response)
            self.state.add(self._statuses(entries))
            newer = parse_links(response.headers.get("link", "")).get("prev", {}).get("min_id")
            following = _newest([newer] if newer else self._ids(entries))
            if following is None or _id_key(following) <= _id_key(min_id):
                break  # nothing newer, or a server that does not move on: stop here
            min_id = following
            if len(entries) < PAGE_LIMIT:
                break
        else:
            self.state.more = True
        return {"min_id": min_id}

    def _first_walk(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """A stream's first poll: the newest page, then a few older ones."""
        data, response = self.get(path, {**params, "limit": PAGE_LIMIT})
        entries = self._list(data, response)
        self.state.add(self._statuses(entries))
        links = parse_links(response.headers.get("link", ""))
        newest = _newest([links["prev"]["min_id"]] if links.get("prev", {}).get("min_id")
                         else self._ids(entries))
        older = links.get("next", {}).get("max_id")
        for _page in range(FIRST_POLL_PAGES - 1):
            if not older or len(entries) < PAGE_LIMIT or not self.state.budget_left():
                break
            data, response = self.get(path, {**params, "limit": PAGE_LIMIT, "max_id": older})
            entries = self._list(data, response)
            self.state.add(self._statuses(entries))
            following = parse_links(response.headers.get("link", "")).get("next", {})
            if not following.get("max_id") or following["max_id"] == older:
                break
            older = following["max_id"]
        return {"min_id": newest} if newest else {}

    def search(self, query: str, stream: dict[str, Any]) -> dict[str, Any]:
        """Statuses matching ``query`` newer than the stream's ``min_id``.

        Search has no Link header: a backlog is paged with ``offset`` (kept in the
        cursor until it is read through), then ``min_id`` moves to the newest id seen.
        """
        params: dict[str, Any] = {"q": query, "type": "statuses", "limit": PAGE_LIMIT}
        min_id, offset, top = stream.get("min_id"), stream.get("offset"), stream.get("top")
        min_id = min_id if isinstance(min_id, str) and min_id else None
        offset = offset if isinstance(offset, int) and offset >= 0 else 0
        top = top if isinstance(top, str) and top else None
        if not self.state.budget_left():
            self.state.more = True
            return stream
        if min_id is None:
            newest = _newest(self._ids(self._search_page(params)))
            return {"min_id": newest} if newest else {}
        while True:
            if not self.state.budget_left():
                self.state.more = True
                return {"min_id": min_id, "offset": offset, "top": top or min_id}
            statuses = self._search_page({**params, "min_id": min_id, "offset": offset})
            top = _newest(self._ids(statuses), top)
            offset += PAGE_LIMIT
            if len(statuses) < PAGE_LIMIT or offset >= MAX_SEARCH_OFFSET:
                return {"min_id": _newest([min_id], top)}

    def _search_page(self, params: Mapping[str, Any]) -> list[Any]:
        data, response = self.get("/api/v2/search", params)
        statuses = data.get("statuses") if isinstance(data, Mapping) else None
        if not isinstance(statuses, list):
            raise SourceError(f"{describe(response.url)} did not answer like a Mastodon server "
                              "(no statuses in the search results)")
        self.state.add(statuses)
        return statuses
