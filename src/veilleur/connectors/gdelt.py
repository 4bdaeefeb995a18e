"""Online news worldwide through the GDELT DOC 2.0 API (article lists, no key).

``GET https://api.gdeltproject.org/api/v2/doc/doc?mode=artlist&format=json`` returns
at most 250 articles, newest first with ``sort=datedesc``, from a rolling window of
the last three months. GDELT gives a title, never a body: the mention's text is the
title. Its quirks, handled here:

- errors come back as plain text with HTTP 200 ("Your search contained a keyword that
  was too short...", "Invalid query..."): a permanent SourceError with that text; a
  rate-limit notice ("Please limit requests to one every 5 seconds") is transient;
- an empty result is ``{}``;
- GDELT asks for one request every 5 seconds per IP: requests from one process are
  spaced by ``MIN_SPACING`` seconds, and a source is polled at most every
  ``MIN_POLL_SECONDS`` (GDELT updates every 15 minutes anyway);
- ``seendate`` (``20261124T101500Z``) moves in 15-minute steps, so many articles share
  one: the cursor keeps the newest ``seendate`` plus short hashes of the URLs seen at
  it. A full page (250) starts a drain: the next fetches read older articles with
  ``enddatetime`` narrowed to the oldest date reached, one request per fetch.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

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
from veilleur.connectors.http import HttpClient, Response, describe, endpoint

BASE_URL = "https://api.gdeltproject.org/api/v2"
MAX_RECORDS = 250
MIN_SPACING = 5.0  # seconds between two requests from this process (GDELT's request)
MIN_POLL_SECONDS = 300.0
RATE_LIMIT_WAIT = 60.0
FIRST_POLL_LOOKBACK = timedelta(days=1)
WINDOW = timedelta(days=89)  # GDELT searches the last three months; stay inside it
MAX_SEEN = 600
MIN_TERM = 3
SEENDATE = "%Y%m%dT%H%M%SZ"
QUERY_DATE = "%Y%m%d%H%M%S"

# GDELT's language names (the 65 it translates, and English) and ISO 639-1 codes.
LANGUAGES: dict[str, str] = {
    "afrikaans": "af", "albanian": "sq", "arabic": "ar", "armenian": "hy",
    "azerbaijani": "az", "bengali": "bn", "bosnian": "bs", "bulgarian": "bg",
    "catalan": "ca", "chinese": "zh", "croatian": "hr", "czech": "cs", "danish": "da",
    "dutch": "nl", "english": "en", "estonian": "et", "finnish": "fi", "french": "fr",
    "galician": "gl", "georgian": "ka", "german": "de", "greek": "el", "gujarati": "gu",
    "hebrew": "he", "hindi": "hi", "hungarian": "hu", "icelandic": "is",
    "indonesian": "id", "italian": "it", "japanese": "ja", "kannada": "kn",
    "kazakh": "kk", "korean": "ko", "latvian": "lv", "lithuanian": "lt",
    "macedonian": "mk", "malay": "ms", "malayalam": "ml", "marathi": "mr",
    "mongolian": "mn", "nepali": "ne", "norwegian": "no", "persian": "fa",
    "polish": "pl", "portuguese": "pt", "punjabi": "pa", "romanian": "ro",
    "russian": "ru", "serbian": "sr", "sinhalese": "si", "slovak": "sk",
    "slovenian": "sl", "somali": "so", "spanish": "es", "swahili": "sw",
    "swedish": "sv", "tamil": "ta", "telugu": "te", "thai": "th", "tibetan": "bo",
    "turkish": "tr", "ukrainian": "uk", "urdu": "ur", "vietnamese": "vi",
}
_BY_CODE = {code: name for name, code in LANGUAGES.items()}

_throttle = threading.Lock()
_last_request = 0.0


class GdeltConnector:
    kind = "gdelt"
    platform = "news"
    label = _("News worldwide (GDELT)")
    min_interval = int(MIN_POLL_SECONDS)  # the form's lower bound; the hint enforces it
    fields = (
        ConfigField(
            "query", _("Search query"), required=True,
            help=_("GDELT query syntax: words, \"exact phrases\", (a OR b), -excluded, and "
                   "operators such as domain:example.com, sourcelang:french or "
                   "sourcecountry:france. Every word needs at least 3 characters."),
        ),
        ConfigField(
            "languages", _("Languages"), type="lines",
            help=_("Only articles in these languages, one per line: ISO codes (fr, en) "
                   "or GDELT names (French, English). Empty: all languages."),
        ),
        ConfigField(
            "country", _("Country of the source"),
            help=_("Only outlets from this country: its English name (France, United "
                   "Kingdom) or its FIPS code (note that FIPS differs from ISO: "
                   "Germany is GM)."),
        ),
    )

    def coverage(self, config: Mapping[str, JSON]) -> list[str]:
        return [gettext("News articles only, titles without their text, from the last "
                        "three months, at most 250 per request.")]

    def validate_config(self, config: Mapping[str, JSON]) -> dict[str, JSON]:
        clean = clean_fields(self.fields, config)
        clean["query"] = _check_query(str(clean["query"]))
        if clean.get("languages"):
            clean["languages"] = [_language(value) for value in clean["languages"]]
        if clean.get("country"):
            country = str(clean["country"])
            if not re.fullmatch(r"[A-Za-z][A-Za-z .'-]*", country):
                raise invalid(
                    "country", gettext("expected a country name or FIPS code, got %(value)s"),
                    value=repr(country))
        return clean

    def fetch(self, config: Mapping[str, JSON], cursor: JSON, now: datetime) -> Batch:
        state = _read_cursor(cursor, now)
        since: datetime = state["since"]
        seen: set[str] = set(state["seen"])
        drain: dict[str, Any] | None = state.get("drain")
        params = {
            "query": gdelt_query(config),
            "mode": "artlist",
            "format": "json",
            "maxrecords": str(MAX_RECORDS),
            "sort": "datedesc",
            "startdatetime": since.strftime(QUERY_DATE),
        }
        until = _parse_seendate(drain["until"]) if drain is not None else None
        if until is not None:
            params["enddatetime"] = until.strftime(QUERY_DATE)
        url = endpoint("gdelt", BASE_URL) + "/doc/doc"
        with HttpClient() as http, _turn():
            response = http.get(url, params=params, now=now)
        articles = _articles(response)

        items: dict[str, RawItem] = {}
        stamps: list[tuple[datetime, str]] = []
        for article in articles:
            seen_at = _parse_seendate(article.get("seendate"))
            link = str(article.get("url") or "").strip()
            if seen_at is None or not link:
                continue
            stamps.append((seen_at, link))
            if seen_at < since or (seen_at == since and _digest(link) in seen):
                continue
            item = _item(article, link, seen_at)
            if item is not None:
                items.setdefault(item.external_id, item)

        newest = max((stamp for stamp, _link in stamps), default=since)
        if drain is None:
            top, top_seen = newest, set()
        else:
            top, top_seen = _parse_seendate(drain["top"]) or since, set(drain["top_seen"])
        top_seen |= {_digest(link) for stamp, link in stamps if stamp == top}
        if top == since:
            top_seen |= seen
        oldest = min((stamp for stamp, _link in stamps), default=since)
        new_cursor: dict[str, Any]
        # A full page: older articles may remain between ``since`` and ``oldest``.
        # A page all from one seendate cannot be narrowed; step below it.
        below = oldest if oldest < newest else oldest - timedelta(seconds=1)
        # A drain goes on only while its window narrows: an answer that ignores
        # ``enddatetime`` (the same page again) would otherwise drain for ever.
        narrows = until is None or below < until
        if len(articles) >= MAX_RECORDS and oldest > since and narrows:
            until = below
            new_cursor = {
                "since": _seendate(since), "seen": sorted(seen),
                "drain": {"top": _seendate(top), "top_seen": sorted(top_seen)[:MAX_SEEN],
                          "until": _seendate(until)},
            }
            more = True
        else:
            new_cursor = {"since": _seendate(top), "seen": sorted(top_seen)[:MAX_SEEN]}
            more = False
        wait = max(response.hint(honour_cache=False).retry_after or 0.0, MIN_POLL_SECONDS)
        return Batch(items=list(items.values()), cursor=new_cursor,
                     hint=PollHint(retry_after=wait), more=more)


# --- the query ------------------------------------------------------------------------


_TOKEN = re.compile(r'-?"[^"]*"|[^\s()"]+|[()]')
_OPERATOR = re.compile(r"^-?[a-z0-9]+[:<>=]", re.IGNORECASE)


def _check_query(query: str) -> str:
    """The query if GDELT can take it: ConfigInvalid for words it would refuse."""
    query = " ".join(query.split())
    if not query:
        raise invalid("query", gettext("required"))
    if query.count('"') % 2:
        raise invalid("query", gettext("a quotation mark is not closed"))
    long_enough = False
    for token in _TOKEN.findall(query):
        if token in ("(", ")") or token.upper() in ("OR", "AND"):
            continue
        if token.lstrip("-").startswith('"'):
            words = token.lstrip("-").strip('"').split()
            long_enough = long_enough or any(len(word) >= MIN_TERM for word in words)
            continue
        if _OPERATOR.match(token):
            continue  # domain:, sourcelang:, theme:, tone<... are filters, not words
        word = token.lstrip("-")
        if len(word) < MIN_TERM:
            raise invalid(
                "query",
                gettext("GDELT refuses words shorter than %(limit)s characters "
                        "(%(value)s); use a longer word or a phrase in quotes"),
                limit=MIN_TERM, value=repr(word))
        long_enough = True
    if not long_enough:
        raise invalid(
            "query",
            gettext("needs at least one word of %(limit)s characters or more (GDELT "
                    "refuses shorter ones)"),
            limit=MIN_TERM)
    return query


def _language(value: str) -> str:
    """A GDELT language name (lower case) for an ISO code or a name."""
    key = value.strip().lower()
    if key in LANGUAGES:
        return key
    if key in _BY_CODE:
        return _BY_CODE[key]
    raise invalid(
        "languages",
        gettext("unknown language %(value)s; use ISO codes (fr, en) or GDELT "
                "language names (French, English)"),
        value=repr(value))


def _or_group(terms: list[str]) -> str:
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


def _top_level_or(query: str) -> bool:
    depth = 0
    for part in _TOKEN.findall(query):
        depth += part == "("
        depth -= part == ")"
        if depth == 0 and part.upper() == "OR":
            return True
    return False


def gdelt_query(config: Mapping[str, JSON]) -> str:
    """The query sent to GDELT: the user's, with the language and country filters."""
    query = str(config["query"])
    if _top_level_or(query):
        query = f"({query})"  # GDELT wants OR'd terms in parentheses
    parts = [query]
    languages = config.get("languages") or []
    if isinstance(languages, list) and languages:
        parts.append(_or_group([f"sourcelang:{name}" for name in languages]))
    country = str(config.get("country") or "")
    if country:
        parts.append("sourcecountry:" + re.sub(r"[\s.'-]", "", country).lower())
    return " ".join(parts)


# --- the answer -----------------------------------------------------------------------


@contextmanager
def _turn() -> Iterator[None]:
    """One GDELT request at a time per process, MIN_SPACING seconds after the last one."""
    global _last_request
    with _throttle:
        wait = MIN_SPACING - (time.monotonic() - _last_request)
        if wait > 0:
            time.sleep(wait)
        try:
            yield
        finally:
            _last_request = time.monotonic()


def _articles(response: Response) -> list[dict[str, Any]]:
    """The articles of an artlist answer; SourceError for GDELT's plain-text errors."""
    text = response.text().strip()
    where = describe(response.url)
    if not text:
        raise SourceError(f"{where} sent an empty answer; will retry")
    if not text.startswith(("{", "[")):
        message = " ".join(text.split())[:300]
        if message.lower().startswith("please limit"):
            raise SourceError(f"GDELT asks us to slow down: {message}",
                              retry_after=RATE_LIMIT_WAIT)
        if "<html" in message.lower():
            raise SourceError(f"{where} sent an HTML page instead of JSON; will retry")
        raise SourceError(f"GDELT refused the query: {message}", permanent=True)
    try:
        # strict=False: GDELT titles sometimes carry raw control characters.
        body = json.loads(text, strict=False)
    except ValueError as exc:
        raise SourceError(
            f"{where} sent malformed JSON ({type(exc).__name__} at "
            f"{getattr(exc, 'pos', '?')}; {len(response.content)} bytes)") from None
    if not isinstance(body, dict):
        raise SourceError(f"{where} sent JSON that is not an article list")
    articles = body.get("articles", [])
    if not isinstance(articles, list):
        raise SourceError(f"{where} sent JSON that is not an article list")
    return [article for article in articles if isinstance(article, dict)]


def _parse_seendate(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), SEENDATE).replace(tzinfo=UTC)
    except ValueError:
        return None


def _seendate(value: datetime) -> str:
    return value.astimezone(UTC).strftime(SEENDATE)


def _digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _read_cursor(cursor: JSON, now: datetime) -> dict[str, Any]:
    """The stored cursor (kept inside GDELT's window) or the first poll's: the last day."""
    oldest_allowed = now - WINDOW
    if isinstance(cursor, dict):
        since = _parse_seendate(cursor.get("since"))
        if since is not None:
            seen = cursor.get("seen")
            seen = seen if isinstance(seen, list) else []
            state: dict[str, Any] = {"since": max(since, oldest_allowed.replace(microsecond=0)),
                                     "seen": [str(s) for s in seen]}
            drain = cursor.get("drain")
            if (isinstance(drain, dict) and _parse_seendate(drain.get("top"))
                    and _parse_seendate(drain.get("until"))):
                state["drain"] = {"top": drain["top"], "until": drain["until"],
                                  "top_seen": [str(s) for s in drain.get("top_seen") or []]}
            return state
    return {"since": (now - FIRST_POLL_LOOKBACK).astimezone(UTC).replace(microsecond=0),
            "seen": []}


def _item(article: Mapping[str, Any], link: str, seen_at: datetime) -> RawItem | None:
    title = " ".join(str(article.get("title") or "").split())
    if not title:
        return None
    domain = str(article.get("domain") or "").strip().lower()
    language = str(article.get("language") or "").strip()
    country = str(article.get("sourcecountry") or "").strip()
    extra: dict[str, JSON] = {"item_type": "article"}
    if domain:
        extra["site"] = domain
    if country:
        extra["country"] = country
    if language:
        extra["language"] = language
    external_id = link if len(link) <= 500 else "sha256:" + hashlib.sha256(
        link.encode()).hexdigest()
    return RawItem(
        external_id=external_id,
        text=title,
        title=title,
        url=link,
        published_at=seen_at,
        author_handle=domain,
        author_name=domain,
        author_url=f"https://{domain}/" if domain else "",
        lang_hint=LANGUAGES.get(language.lower(), ""),
        extra=extra,
    )
