"""App Store customer reviews, from Apple's public per-storefront reviews feed.

Apple publishes the most recent reviews of any app, per storefront (country), as a
JSON feed that needs no account:
``{base}/{country}/rss/customerreviews/page={n}/id={app_id}/sortby=mostrecent/json``,
at most 10 pages of 50 reviews. The feed is old and loosely kept, so parsing is
defensive:

- ``feed.entry`` is a list, a single object when there is one review, and absent when
  there is none (an empty feed is an empty batch, not an error);
- the first entry used to describe the app itself (it has no ``im:rating``): skipped;
- ``updated`` is sometimes missing: the review is dated at the poll time and flagged
  ``date_estimated`` in ``extra``;
- the feed answers 429 or 502 at times: a transient failure, or, when other pages of
  this poll already came back, a partial batch (the rest is fetched next time).

Cursor (JSON): ``{"v": 1, "app_id": "...", "turn": i, "countries": {"fr": {"seen":
[ids, newest first], "newest": iso or null, "resume": page}}}``. ``seen`` is bounded
above the 500 reviews the feed ever shows, so "new" means "an id not seen yet" (reviews
held in moderation appear late with an older date; a date cursor would lose them).
Paging in a storefront stops at the first page with nothing new; a poll reads at most
``PAGES_PER_FETCH`` pages in all, and where pages remain the storefront's ``resume``
page is kept and ``more`` is set so the pipeline polls again at once. ``turn`` is the
storefront where the next poll starts, so many storefronts share the budget fairly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from veilleur.connectors.base import (
    JSON,
    Batch,
    ConfigField,
    ConfigInvalid,
    PollHint,
    RawItem,
    SourceError,
)
from veilleur.connectors.fields import bounded_int, clean_fields, invalid
from veilleur.connectors.html_text import html_to_text
from veilleur.connectors.http import HttpClient, Response, endpoint, error_for_status
from veilleur.connectors.timestamps import parse_iso

DEFAULT_BASE_URL = "https://itunes.apple.com"
FEED_PAGES = 10  # Apple serves pages 1 to 10 of 50 reviews each
PAGES_PER_FETCH = 6
MAX_ITEMS_PER_FETCH = 200
MAX_COUNTRIES = 30
SEEN_IDS = 600  # per storefront, more than the 500 reviews the feed ever shows
CURSOR_VERSION = 1

_APP_ID = re.compile(r"^(?:id)?(\d{1,12})$", re.IGNORECASE)
_URL_APP_ID = re.compile(r"/id(\d{1,12})(?:$|[/?#])")
_COUNTRY = re.compile(r"^[a-z]{2}$")
_LAST_PAGE = re.compile(r"/page=(\d{1,3})/")

# Storefronts whose reviews are overwhelmingly in one language. Multilingual ones
# (Belgium, Switzerland, Canada, ...) get no hint: language detection decides.
COUNTRY_LANGUAGE = {
    "fr": "fr", "us": "en", "gb": "en", "au": "en", "nz": "en", "ie": "en",
    "de": "de", "at": "de", "it": "it", "es": "es", "mx": "es", "ar": "es",
    "pt": "pt", "br": "pt", "nl": "nl", "jp": "ja", "kr": "ko", "pl": "pl",
    "se": "sv", "dk": "da",
}


def parse_app_id(value: str) -> tuple[str, str]:
    """``(app_id, country)`` from a numeric id or an App Store link (country may be '')."""
    value = value.strip()
    match = _APP_ID.match(value)
    if match:
        return match.group(1), ""
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() in ("http", "https") and (
        host == "apple.com" or host.endswith(".apple.com")
    ):
        found = _URL_APP_ID.search(parts.path)
        if found:
            first = parts.path.strip("/").split("/")[0].lower()
            return found.group(1), first if _COUNTRY.match(first) else ""
    raise invalid("app_id", gettext(
        "expected the app's numeric id (e.g. 284882215) or its App Store link "
        "(https://apps.apple.com/fr/app/name/id284882215)"))


def feed_url(base: str, country: str, app_id: str, page: int) -> str:
    return f"{base}/{country}/rss/customerreviews/page={page}/id={app_id}/sortby=mostrecent/json"


def review_page_url(country: str, app_id: str) -> str:
    """Where people read the reviews (the feed gives no link per review)."""
    return f"https://apps.apple.com/{country}/app/id{app_id}?see-all=reviews"


class AppStoreConnector:
    """Reviews of one app in one or more App Store storefronts."""

    kind = "appstore"
    platform = "appstore"
    label = _("App Store reviews")
    min_interval = 300  # the feed is cached upstream; polling faster finds nothing more
    fields = (
        ConfigField(
            "app_id", _("App"), required=True,
            help=_("The app's numeric id or its App Store link, e.g. "
                   "https://apps.apple.com/fr/app/name/id284882215.")),
        ConfigField(
            "countries", _("Countries"), type="lines", default=["fr"],
            help=_("App Store countries to read, one two-letter code per line (fr, be, "
                   "ca, us, gb...). Each country has its own reviews.")),
        ConfigField(
            "max_pages", _("Pages per country"), type="int", default=FEED_PAGES,
            help=_("How far back to read, from 1 to 10 pages of 50 reviews.")),
    )

    def coverage(self, config: Mapping[str, JSON]) -> list[str]:
        return [gettext("Apple's public feed gives at most the 500 most recent reviews per "
                        "country (10 pages), is sometimes empty or slow, and some reviews "
                        "come without a date (the time of the poll is used).")]

    def validate_config(self, config: Mapping[str, JSON]) -> dict[str, JSON]:
        clean = clean_fields(self.fields, config)
        app_id, link_country = parse_app_id(str(clean["app_id"]))
        clean["app_id"] = app_id
        given = config.get("countries")
        if link_country and given in (None, "", []):
            clean["countries"] = [link_country]
        countries: list[str] = []
        for raw in clean["countries"]:
            code = str(raw).strip().lower()
            if code == "uk":
                raise invalid("countries", gettext("the United Kingdom's App Store code is gb"))
            if not _COUNTRY.match(code):
                raise invalid(
                    "countries",
                    gettext("%(value)s is not a two-letter country code (fr, be, us...)"),
                    value=repr(raw))
            if code not in countries:
                countries.append(code)
        if not countries:
            raise invalid("countries", gettext("at least one country is needed"))
        if len(countries) > MAX_COUNTRIES:
            # Translators: the most countries one source may read.
            raise invalid("countries", gettext("at most %(limit)s"), limit=MAX_COUNTRIES)
        clean["countries"] = countries
        clean["max_pages"] = bounded_int(clean, "max_pages", 1, FEED_PAGES)
        return clean

    def fetch(self, config: Mapping[str, JSON], cursor: JSON, now: datetime) -> Batch:
        try:
            with translation.override("en"):  # stored with the source: in English
                config = self.validate_config(config)
        except ConfigInvalid as exc:
            raise SourceError(f"invalid settings: {exc}", permanent=True) from None
        app_id = str(config["app_id"])
        countries: list[str] = list(config["countries"])
        max_pages = int(config["max_pages"])
        state = _load_cursor(cursor, app_id, countries)
        base = endpoint(self.kind, DEFAULT_BASE_URL)

        start = int(state["turn"]) % len(countries)
        order = countries[start:]
        items: list[RawItem] = []
        pages_left = PAGES_PER_FETCH
        more = False
        hint = PollHint()
        served_any = False
        next_turn = 0
        with HttpClient() as http:
            for position, country in enumerate(order):
                if pages_left <= 0 or len(items) >= MAX_ITEMS_PER_FETCH:
                    more, next_turn = True, start + position
                    break
                shop: dict[str, Any] = state["countries"][country]
                try:
                    used, done = self._read_country(
                        http, base, app_id, country, shop, max_pages, pages_left, items, now)
                except SourceError as exc:
                    if exc.permanent or not (served_any or items):
                        raise
                    # Some pages came back already: keep them, retry the rest next time.
                    hint = PollHint(retry_after=exc.retry_after)
                    next_turn = start + position
                    break
                served_any = True
                pages_left -= used
                if not done:
                    more, next_turn = True, start + position
                    break
        state["turn"] = next_turn
        return Batch(items=items, cursor=state, hint=hint, more=more)

    def _read_country(
        self,
        http: HttpClient,
        base: str,
        app_id: str,
        country: str,
        shop: dict[str, Any],
        max_pages: int,
        pages_left: int,
        items: list[RawItem],
        now: datetime,
    ) -> tuple[int, bool]:
        """Read new reviews of one storefront into ``items``; ``(pages used, finished)``.

        ``shop`` (this storefront's cursor) is updated in place as each page succeeds,
        so a failure on a later page loses nothing already read.
        """
        seen: list[str] = [str(i) for i in shop.get("seen") or []]
        known = set(seen)
        page = int(shop.get("resume") or 1)
        # ``seen`` runs newest first: a run from page 1 reads reviews newer than those
        # seen, a resumed one reads older ones.
        resumed = page > 1
        read: list[str] = []
        last = max_pages
        used = 0
        while True:
            if used >= pages_left or len(items) >= MAX_ITEMS_PER_FETCH:
                shop["resume"] = page
                return used, False
            # Recorded before asking: should this page fail, the next poll resumes here.
            if page > 1:
                shop["resume"] = page
            response = http.get(feed_url(base, country, app_id, page), check=False)
            used += 1
            _raise_for_status(response, app_id, country)
            feed = _feed(response)
            last = min(last, _last_page(feed))
            entries = _entries(feed)
            fresh = []
            for entry in entries:
                item = _review(entry, app_id, country, now)
                if item is None or item.external_id in known:
                    continue
                known.add(item.external_id)
                fresh.append(item)
            items.extend(fresh)
            read.extend(item.external_id for item in fresh)
            shop["seen"] = (seen + read if resumed else read + seen)[:SEEN_IDS]
            shop["newest"] = _newest(shop.get("newest"), fresh)
            if not fresh or page >= last:
                shop.pop("resume", None)
                return used, True
            page += 1


def _load_cursor(cursor: JSON, app_id: str, countries: list[str]) -> dict[str, Any]:
    """The stored cursor, or a fresh one when it belongs to another app (config edited)."""
    if (
        not isinstance(cursor, dict)
        or cursor.get("v") != CURSOR_VERSION
        or cursor.get("app_id") != app_id
        or not isinstance(cursor.get("countries"), dict)
    ):
        cursor = {"v": CURSOR_VERSION, "app_id": app_id, "turn": 0, "countries": {}}
    stored = cursor["countries"]
    shops = {}
    for country in countries:
        shop = stored.get(country)
        shops[country] = dict(shop) if isinstance(shop, dict) else {"seen": [], "newest": None}
    turn = cursor.get("turn")
    return {
        "v": CURSOR_VERSION,
        "app_id": app_id,
        "turn": turn if isinstance(turn, int) and 0 <= turn < len(countries) else 0,
        "countries": shops,
    }


def _raise_for_status(response: Response, app_id: str, country: str) -> None:
    if response.status == 404:
        raise SourceError(
            f"the App Store has no reviews feed for app {app_id} in country {country!r} "
            "(HTTP 404): check the app id and that the app is sold in that country",
            permanent=True)
    error = error_for_status(response)
    if error is not None:
        raise error


def _feed(response: Response) -> dict[str, Any]:
    """The ``feed`` object; an empty dict for the empty answers the feed gives at times."""
    if not response.content.strip():
        return {}
    body = response.json()
    if not isinstance(body, dict):
        raise SourceError("the App Store reviews feed sent JSON of an unexpected shape")
    feed = body.get("feed")
    if feed in (None, "", []):
        return {}
    if not isinstance(feed, dict):
        raise SourceError("the App Store reviews feed sent JSON of an unexpected shape")
    return feed


def _entries(feed: dict[str, Any]) -> list[dict[str, Any]]:
    entries = feed.get("entry")
    if isinstance(entries, dict):  # a single review
        return [entries]
    if isinstance(entries, list):
        return [entry for entry in entries if isinstance(entry, dict)]
    return []


def _last_page(feed: dict[str, Any]) -> int:
    """The last page the feed says it has (its ``rel=last`` link), else 10."""
    links = feed.get("link")
    if isinstance(links, dict):
        links = [links]
    if isinstance(links, list):
        for link in links:
            attributes = link.get("attributes") if isinstance(link, dict) else None
            if isinstance(attributes, dict) and attributes.get("rel") == "last":
                found = _LAST_PAGE.search(str(attributes.get("href", "")))
                if found:
                    return max(1, min(int(found.group(1)), FEED_PAGES))
    return FEED_PAGES


def _label(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    if isinstance(value, dict):
        label = value.get("label")
        if isinstance(label, (str, int, float)) and not isinstance(label, bool):
            return str(label).strip()
    return ""


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _content(entry: dict[str, Any]) -> str:
    """The review body; older feeds gave a text and an HTML version in a list."""
    content = entry.get("content")
    versions = content if isinstance(content, list) else [content]
    html = ""
    for version in versions:
        if not isinstance(version, dict) or not isinstance(version.get("label"), str):
            continue
        attributes = version.get("attributes")
        kind = attributes.get("type") if isinstance(attributes, dict) else "text"
        if kind == "html":
            html = html or version["label"]
        else:
            return str(version["label"]).strip()
    return html_to_text(html) if html else ""


def _review(entry: dict[str, Any], app_id: str, country: str, now: datetime) -> RawItem | None:
    """One review as a RawItem; None for the app's own entry or an entry without id."""
    rating = _int(_label(entry, "im:rating"))
    review_id = _label(entry, "id")
    if rating is None or not review_id:
        return None
    published = parse_iso(_label(entry, "updated"))
    extra: dict[str, JSON] = {
        "item_type": "review",
        "rating": max(1, min(rating, 5)),
        "country": country,
    }
    if published is None:
        published = now
        extra["date_estimated"] = True
    version = _label(entry, "im:version")
    if version:
        extra["app_version"] = version
    votes, helpful = _int(_label(entry, "im:voteCount")), _int(_label(entry, "im:voteSum"))
    if votes is not None:
        extra["vote_count"] = votes
    if helpful is not None:
        extra["score"] = helpful
    author = entry.get("author")
    if not isinstance(author, dict):
        author = {}
    name = _label(author, "name")
    return RawItem(
        external_id=review_id,
        text=_content(entry),
        title=_label(entry, "title"),
        url=review_page_url(country, app_id),
        published_at=published,
        author_handle=name,
        author_name=name,
        author_url=_label(author, "uri"),
        lang_hint=COUNTRY_LANGUAGE.get(country, ""),
        extra=extra,
    )


def _newest(current: JSON, fresh: list[RawItem]) -> str | None:
    """The latest real review date seen in a storefront (estimated dates don't count)."""
    dates = [item.published_at for item in fresh
             if item.published_at is not None and not item.extra.get("date_estimated")]
    best = parse_iso(current) if isinstance(current, str) else None
    for when in dates:
        if best is None or when > best:
            best = when
    return best.isoformat() if best else None
