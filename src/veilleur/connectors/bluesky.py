"""Bluesky: posts matching a search, or the mentions of an account (docs/sources/bluesky.md).

- ``search``: ``app.bsky.feed.searchPosts`` (``sort=latest``), newest first.
- ``mentions``: ``app.bsky.notification.listNotifications``, keeping the reasons
  ``mention``, ``reply`` and ``quote``. Needs a login; nothing is marked as seen.

**Logged out** (no app password), reads go to the public AppView
(``https://public.api.bsky.app``). Bluesky serves logged-out clients the first page
of a search only (a ``cursor`` is refused with 403) and has at times switched
logged-out post search off altogether. The connector degrades honestly: it keeps
the newest time it has seen in its cursor and asks with ``since`` for what came
after, one page (100 posts) per poll; more than 100 new posts between two polls
are not all seen, and a 403 says to add an app password.

**Logged in** (``handle`` + ``app_password``), each fetch opens a session with
``com.atproto.server.createSession`` on the account's service (``https://bsky.social``
by default) and pages with ``cursor``. No token is ever stored: the access token
lives in memory for one fetch. createSession is rate limited per account (30 per
5 minutes, 300 per day), so a logged-in source asks the scheduler to wait at least
``SESSION_INTERVAL`` seconds (5 minutes) between polls, whatever its interval, and
never asks for an immediate re-poll: a backlog is read a few pages per fetch and
resumed from the cursor at the next poll.

Why not the ``atproto`` SDK: it makes its requests with its own httpx client, which
would bypass ``HttpClient`` -- the SSRF guard on the address actually connected to
(``service`` is user input), the body size limit and the bounded timeouts. The few
XRPC endpoints used here are plain HTTP GET/POST with JSON, called with
``HttpClient`` instead.

Post URIs (``at://did/app.bsky.feed.post/rkey``) are global, so they are the
external ids as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

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
from veilleur.connectors.http import HttpClient, Response, describe, endpoint, error_for_status
from veilleur.connectors.timestamps import parse_iso

PUBLIC_SERVICE = "https://public.api.bsky.app"  # the AppView, logged-out reads
LOGIN_SERVICE = "https://bsky.social"  # the entryway of accounts hosted by Bluesky
APPVIEW_HOSTS = frozenset({"public.api.bsky.app", "api.bsky.app"})  # cannot log in
PAGE_LIMIT = 100  # the maximum of searchPosts and listNotifications
MAX_PAGES = 5  # per fetch, logged in
MAX_QUERY_CHARS = 500
MAX_CURSOR_CHARS = 2048  # a longer page cursor is not kept in ours: paging stops there
SESSION_INTERVAL = 300.0  # seconds between logins (createSession: 300 a day per account)
CURSOR_VERSION = 1
MENTION_REASONS = ("mention", "reply", "quote")
_APP_PASSWORD = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$")
_LANG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
_IDENTIFIER = re.compile(r"^[^\s/?#]{3,253}$")
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_AUTH_ERRORS = frozenset({
    "ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing",
    "AccountTakedown", "AccountDeactivated", "AuthFactorTokenRequired",
})
_MESSAGE_CHARS = 200

MODES = (
    ("search", _("Posts matching a search")),
    ("mentions", _("Mentions of my account (needs an app password)")),
)


def _stamp(when: datetime) -> str:
    """The form Bluesky writes times in: UTC, milliseconds, ``Z``."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _later(a: str | None, b: str | None) -> str | None:
    when_a, when_b = parse_iso(a), parse_iso(b)
    if when_a is None:
        return b if when_b is not None else None
    if when_b is None:
        return a
    return a if when_a >= when_b else b


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def post_url(uri: str, handle: str) -> str:
    """``at://did/app.bsky.feed.post/rkey`` -> the post's page on bsky.app."""
    match = re.match(r"^at://([^/]+)/app\.bsky\.feed\.post/([^/?#]+)$", uri)
    if not match:
        return ""
    who = handle if handle and handle != "handle.invalid" else match.group(1)
    return f"https://bsky.app/profile/{quote(who, safe=':.')}/post/{quote(match.group(2))}"


def _alt_texts(embed: Mapping[str, Any]) -> list[str]:
    """Alt texts of the images or video a post record embeds."""
    kind = str(embed.get("$type") or "")
    if kind == "app.bsky.embed.recordWithMedia":
        return _alt_texts(_mapping(embed.get("media")))
    found = []
    if kind == "app.bsky.embed.images":
        for image in embed.get("images") or []:
            alt = " ".join(str(_mapping(image).get("alt") or "").split())
            if alt:
                found.append(f"[image: {alt}]")
    elif kind == "app.bsky.embed.video":
        alt = " ".join(str(embed.get("alt") or "").split())
        if alt:
            found.append(f"[video: {alt}]")
    return found


def map_post(
    uri: str, record: Mapping[str, Any], author: Mapping[str, Any],
    counts: Mapping[str, Any] | None = None, reason: str = "",
) -> RawItem | None:
    """A post (its record and author, from a postView or a notification) as a RawItem."""
    if not uri.startswith("at://") or "/app.bsky.feed.post/" not in uri:
        return None
    handle = str(author.get("handle") or "")
    did = str(author.get("did") or "")
    shown = handle if handle and handle != "handle.invalid" else did
    parts = [str(record.get("text") or "").strip(), *_alt_texts(_mapping(record.get("embed")))]
    reply = _mapping(record.get("reply"))
    root = _mapping(reply.get("root")).get("uri")
    parent = _mapping(reply.get("parent")).get("uri")
    extra: dict[str, JSON] = {"item_type": "comment" if parent else "post"}
    if isinstance(root, str) and root:
        extra["thread_id"] = root
    if isinstance(parent, str) and parent:
        extra["parent_id"] = parent
    counts = counts or {}
    likes, reposts = _count(counts.get("likeCount")), _count(counts.get("repostCount"))
    if likes is not None or reposts is not None:
        extra["score"] = (likes or 0) + (reposts or 0)
    for key, name in (("likes", "likeCount"), ("reposts", "repostCount"),
                      ("replies", "replyCount"), ("quotes", "quoteCount")):
        value = _count(counts.get(name))
        if value is not None:
            extra[key] = value
    if did:
        extra["author_did"] = did
    if reason:
        extra["reason"] = reason
    langs = record.get("langs")
    lang = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else ""
    verification = _mapping(author.get("verification"))
    return RawItem(
        external_id=uri,
        text="\n\n".join(part for part in parts if part),
        published_at=parse_iso(record.get("createdAt")),
        url=post_url(uri, handle),
        author_handle=f"@{shown}" if shown else "",
        author_name=str(author.get("displayName") or ""),
        author_url=f"https://bsky.app/profile/{quote(shown, safe=':.')}" if shown else "",
        author_followers=None,  # not in search results or notifications
        author_verified=verification.get("verifiedStatus") == "valid",
        lang_hint=lang.split("-")[0].lower(),
        extra=extra,
    )


def _sort_at(record: Mapping[str, Any], indexed_at: Any) -> str | None:
    """The time searchPosts' ``since`` compares with: the earlier of created and indexed."""
    created, indexed = parse_iso(record.get("createdAt")), parse_iso(indexed_at)
    found = [t for t in (created, indexed) if t is not None]
    return _stamp(min(found)) if found else None


@dataclass
class _Walk:
    """One fetch's reading: items by id, the newest time seen, the continuation."""

    items: dict[str, RawItem] = field(default_factory=dict)
    newest: str | None = None

    def add(self, item: RawItem | None) -> None:
        if item is not None:
            self.items.setdefault(item.external_id, item)


class BlueskyConnector:
    """Bluesky search results or mentions, logged out or with an app password."""

    kind = "bluesky"
    platform = "bluesky"
    label = _("Bluesky")
    fields = (
        ConfigField(
            "query", _("Search query"), "text",
            help=_("Words to search for (Bluesky's search syntax: phrases in quotes, "
                   "from:handle, #tag...). Required unless reading mentions.")),
        ConfigField(
            "mode", _("What to read"), "choice", default="search", choices=MODES,
            help=_("Search works logged out, degraded; mentions need a handle and an app "
                   "password.")),
        ConfigField(
            "service", _("Service"), "url",
            help=_("Leave empty: https://public.api.bsky.app when logged out, "
                   "https://bsky.social with an app password. Set it to your own PDS if "
                   "your account is hosted elsewhere.")),
        ConfigField(
            "handle", _("Handle"), "text",
            help=_("The account to log in with, e.g. nuvia.bsky.social. Optional for "
                   "search (logged out, only the newest 100 results per poll are "
                   "available), required for mentions.")),
        ConfigField(
            "app_password", _("App password"), "secret",
            help=_("An app password (Settings > Privacy and security > App passwords), "
                   "never the account's main password.")),
        ConfigField(
            "lang", _("Language"), "text",
            help=_("Only posts in this language (ISO code such as fr or en); optional.")),
    )

    def coverage(self, config: Mapping[str, JSON]) -> list[str]:
        if config.get("handle") and config.get("app_password"):
            return [gettext("Logged in: search results are read page by page, up to five "
                            "pages per poll.")]
        return [gettext("Logged out, Bluesky gives only the newest 100 posts of a search "
                        "per poll and no older pages: more than 100 new posts between two "
                        "polls are missed. Add a handle and an app password for full "
                        "results.")]

    def validate_config(self, config: Mapping[str, JSON]) -> dict[str, JSON]:
        clean = clean_fields(self.fields, config)
        mode = clean["mode"]
        query = clean.get("query", "")
        if mode == "search" and not query:
            raise invalid("query", gettext("required in search mode"))
        if len(query) > MAX_QUERY_CHARS:
            raise invalid("query", gettext("at most %(limit)s characters"),
                          limit=MAX_QUERY_CHARS)
        handle = clean.get("handle", "").removeprefix("@").strip()
        if handle:
            if not _IDENTIFIER.match(handle):
                raise invalid("handle", gettext("%(value)s is not a Bluesky handle"),
                              value=repr(handle))
            clean["handle"] = handle.lower() if not handle.startswith("did:") else handle
        password = clean.get("app_password", "")
        if password and not _APP_PASSWORD.match(password):
            raise invalid("app_password", gettext(
                "expected an app password like abcd-efgh-ijkl-mnop; create one "
                "in Bluesky's settings and never use the account's main password here"))
        if bool(handle) != bool(password):
            raise invalid("app_password", gettext("give both handle and app_password, or neither"))
        if mode == "mentions" and not password:
            raise invalid("app_password", gettext(
                "reading mentions needs the account's handle and an app password"))
        service = clean.get("service", "")
        if service:
            parts = urlsplit(service)
            if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
                raise invalid("service", gettext(
                    "give the server's address only, like https://bsky.social"))
            service = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
            clean["service"] = service
            if password and (parts.hostname or "") in APPVIEW_HOSTS:
                raise invalid(
                    "service",
                    gettext("%(host)s serves logged-out reads and cannot log in; leave it "
                            "empty (to use %(service)s) or give your PDS"),
                    host=parts.hostname, service=LOGIN_SERVICE)
            if password and parts.scheme.lower() == "http" and parts.hostname not in _LOOPBACK:
                raise invalid("service", gettext(
                    "the app password would travel unencrypted over http://; use https://"))
        lang = clean.get("lang", "").lower()
        if lang:
            if not _LANG.match(lang):
                raise invalid(
                    "lang", gettext("expected a language code like fr or en, got %(value)s"),
                    value=repr(lang))
            clean["lang"] = lang
        return clean

    # -- fetching -------------------------------------------------------------------

    def fetch(self, config: Mapping[str, JSON], cursor: JSON, now: datetime) -> Batch:
        mode = str(config.get("mode") or "search")
        handle = str(config.get("handle") or "")
        password = str(config.get("app_password") or "")
        logged_in = bool(handle and password)
        service = str(config.get("service") or "") or endpoint(
            "bluesky", LOGIN_SERVICE if logged_in else PUBLIC_SERVICE)
        service = service.rstrip("/")
        key = [mode, str(config.get("query") or ""), str(config.get("lang") or ""), handle]
        previous = cursor if isinstance(cursor, dict) else {}
        if previous.get("v") != CURSOR_VERSION or previous.get("key") != key:
            previous = {}  # another query or account: start afresh
        mark = previous.get("mark") if isinstance(previous.get("mark"), str) else None
        page = previous.get("page") if isinstance(previous.get("page"), str) else None
        pending = previous.get("pending") if isinstance(previous.get("pending"), str) else None
        with HttpClient() as http:
            xrpc = _Xrpc(http, service, now, logged_in, mode)
            if logged_in:
                xrpc.login(handle, password)
            walk = _Walk(newest=pending)
            if mode == "mentions":
                page = xrpc.mentions(walk, mark, page, str(config.get("lang") or ""))
            else:
                page = xrpc.search(walk, config, mark, page)
        state: dict[str, JSON] = {"v": CURSOR_VERSION, "key": key}
        if page:  # a walk to resume: keep the mark it runs down to
            state.update(mark=mark, page=page, pending=walk.newest)
        else:
            state["mark"] = _later(mark, walk.newest)
        waits = [w for w in xrpc.waits if w is not None]
        if logged_in:
            waits.append(SESSION_INTERVAL)
        return Batch(
            items=list(walk.items.values()),
            cursor=state,
            hint=PollHint(retry_after=max(waits) if waits else None),
            # Logged out there is nothing to page; logged in, each poll costs a login.
            more=False,
        )


class _Xrpc:
    """XRPC calls of one fetch, with Bluesky's errors turned into plain SourceErrors."""

    def __init__(self, http: HttpClient, service: str, now: datetime, logged_in: bool,
                 mode: str) -> None:
        self.http, self.service, self.now = http, service, now
        self.logged_in, self.mode = logged_in, mode
        self.headers: dict[str, str] = {"Accept": "application/json"}
        self.waits: list[float | None] = []

    def login(self, handle: str, password: str) -> None:
        response = self.http.post(
            f"{self.service}/xrpc/com.atproto.server.createSession",
            json={"identifier": handle, "password": password},
            headers=self.headers, check=False, now=self.now)
        if response.status >= 400:
            raise self._error(response, login=True)
        self.waits.append(response.hint(honour_cache=False).retry_after)
        session = _mapping(response.json())
        token = session.get("accessJwt")
        if session.get("active") is False:
            status = str(session.get("status") or "inactive")
            raise SourceError(f"the Bluesky account {handle} is {status}: it cannot be read",
                              permanent=True)
        if not isinstance(token, str) or not token:
            raise SourceError(f"{describe(response.url)} did not open a session (no access "
                              "token in its answer)")
        self.headers["Authorization"] = f"Bearer {token}"

    def get(self, method: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        response = self.http.get(f"{self.service}/xrpc/{method}", params=params,
                                 headers=self.headers, check=False, now=self.now)
        if response.status >= 400:
            raise self._error(response)
        self.waits.append(response.hint(honour_cache=False).retry_after)
        data = response.json()
        if not isinstance(data, Mapping):
            raise SourceError(f"{describe(response.url)} did not answer like a Bluesky "
                              "service (expected a JSON object)")
        return data

    def _error(self, response: Response, login: bool = False) -> SourceError:
        status, where = response.status, describe(response.url)
        generic = error_for_status(response)
        assert generic is not None
        try:
            body = _mapping(response.json())
        except SourceError:
            body = {}
        name = str(body.get("error") or "")
        if status == 429 or (status >= 500 and name != "MethodNotImplemented"):
            return generic
        message = " ".join(str(body.get("message") or "").split())[:_MESSAGE_CHARS]
        said = ": ".join(part for part in (name, message) if part)
        said = f" ({said})" if said else ""
        if name == "AuthFactorTokenRequired":
            return SourceError(
                f"{where} asks for an email code{said}: use an app password, which does not "
                "need one", permanent=True)
        if name in _AUTH_ERRORS or (login and status in (400, 401)):
            return SourceError(
                f"{where} refused our credentials (HTTP {status}){said}: check the handle and "
                "the app password (revoked?)", permanent=True)
        if status == 403 and not self.logged_in:
            return SourceError(
                f"{where} refused the request (HTTP 403){said}: Bluesky currently refuses "
                "this to logged-out clients; add a handle and an app password", permanent=True)
        if status == 401:
            return SourceError(f"{where} refused access (HTTP 401){said}: check the handle "
                               "and the app password", permanent=True)
        if status == 400 and self.mode == "search":
            return SourceError(f"Bluesky refused the search query{said}", permanent=True)
        if status in (404, 501):
            return SourceError(
                f"{where} does not offer this (HTTP {status}){said}: check the service address",
                permanent=True)
        return SourceError(f"{where} refused the request (HTTP {status}){said}",
                           permanent=True)

    # -- search -----------------------------------------------------------------------

    def search(self, walk: _Walk, config: Mapping[str, JSON], mark: str | None,
               page: str | None) -> str | None:
        """Read search results newer than ``mark``; return the cursor of a walk to resume."""
        params: dict[str, Any] = {"q": str(config.get("query") or ""), "sort": "latest",
                                  "limit": PAGE_LIMIT}
        if config.get("lang"):
            params["lang"] = config["lang"]
        if mark:
            params["since"] = mark
        if not self.logged_in:
            # Logged out: the first page only (a cursor is refused), from ``since`` on.
            self._take_posts(walk, self.get("app.bsky.feed.searchPosts", params))
            return None
        pages = MAX_PAGES if mark else 1  # a first poll reads the newest page only
        seen: set[str] = set()
        for _page in range(pages):
            data = self.get("app.bsky.feed.searchPosts",
                            {**params, "cursor": page} if page else params)
            posts = self._take_posts(walk, data)
            following = data.get("cursor")
            if not mark or not posts or not isinstance(following, str) or not following \
                    or following == page or following in seen \
                    or len(following) > MAX_CURSOR_CHARS:
                return None
            seen.add(following)
            page = following
        return page

    def _take_posts(self, walk: _Walk, data: Mapping[str, Any]) -> list[Any]:
        posts = data.get("posts")
        if not isinstance(posts, list):
            raise SourceError("the Bluesky search answer has no posts list")
        for post in posts:
            post = _mapping(post)
            record = _mapping(post.get("record"))
            walk.add(map_post(str(post.get("uri") or ""), record,
                              _mapping(post.get("author")), post))
            walk.newest = _later(walk.newest, _sort_at(record, post.get("indexedAt")))
        return posts

    # -- mentions ---------------------------------------------------------------------

    def mentions(self, walk: _Walk, mark: str | None, page: str | None,
                 lang: str) -> str | None:
        """Mentions, replies and quotes newer than ``mark``; return a cursor to resume."""
        params: dict[str, Any] = {"limit": PAGE_LIMIT, "reasons": list(MENTION_REASONS)}
        marked = parse_iso(mark)
        pages = MAX_PAGES if mark else 1
        seen: set[str] = set()
        for _page in range(pages):
            data = self.get("app.bsky.notification.listNotifications",
                            {**params, "cursor": page} if page else params)
            notifications = data.get("notifications")
            if not isinstance(notifications, list):
                raise SourceError("the Bluesky notifications answer has no notifications list")
            reached = self._take_notifications(walk, notifications, marked, lang)
            following = data.get("cursor")
            if reached or not mark or not notifications or not isinstance(following, str) \
                    or not following or following == page or following in seen \
                    or len(following) > MAX_CURSOR_CHARS:
                return None
            seen.add(following)
            page = following
        return page

    @staticmethod
    def _take_notifications(walk: _Walk, notifications: Iterable[Any],
                            marked: datetime | None, lang: str) -> bool:
        """Add the wanted notifications; True once one older than ``marked`` is met."""
        reached = False
        for entry in notifications:
            entry = _mapping(entry)
            indexed = parse_iso(entry.get("indexedAt"))
            if marked is not None and indexed is not None and indexed < marked:
                reached = True  # newest first: the rest was read by an earlier poll
                continue
            if indexed is not None:
                walk.newest = _later(walk.newest, _stamp(indexed))
            if entry.get("reason") not in MENTION_REASONS:
                continue
            record = _mapping(entry.get("record"))
            langs = record.get("langs")
            if lang and isinstance(langs, list) and langs and not any(
                    isinstance(code, str) and code.lower().split("-")[0] == lang.split("-")[0]
                    for code in langs):
                continue
            walk.add(map_post(str(entry.get("uri") or ""), record,
                              _mapping(entry.get("author")), reason=str(entry["reason"])))
        return reached
