"""Hacker News stories and comments, through Algolia's public HN search API.

``GET https://hn.algolia.com/api/v1/search_by_date`` answers newest first, with
``numericFilters`` on ``created_at_i`` (epoch seconds) and ``points``. No key is
needed; Algolia allows 10,000 requests an hour per IP address.

**Cursor.** ``{"since": N, "seen": [ids created at second N]}``: the next poll asks for
``created_at_i>=N`` and drops the ids already seen at that second, so an item indexed
late within the same second is not lost and nothing is fetched twice. When a poll
finds more than one page, the connector drains a fixed window (``until`` = the newest
second seen when the drain began, so new arrivals do not shift the pages) over several
fetches, ``PAGES_PER_FETCH`` pages each, with ``more=True`` until it is done.

**Bounds.** Algolia serves at most 1,000 hits per query (``page * hitsPerPage`` below
1,000). When a window holds more, the connector narrows it (``until`` = the oldest
second reached) and pages again, so a busy backlog is read completely, a few pages at
a time. The first poll of a source reads the last ``FIRST_POLL_LOOKBACK`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from veilleur.connectors.fields import bounded_int, clean_fields, invalid
from veilleur.connectors.html_text import html_to_text
from veilleur.connectors.http import HttpClient, endpoint

BASE_URL = "https://hn.algolia.com"
ITEM_URL = "https://news.ycombinator.com/item?id={id}"
USER_URL = "https://news.ycombinator.com/user?id={name}"
HITS_PER_PAGE = 100
MAX_HITS_PER_QUERY = 1000  # Algolia's pagination limit on the HN index
PAGES_PER_FETCH = 2
FIRST_POLL_LOOKBACK = timedelta(days=1)
MAX_SEEN_IDS = 500
TAGS = {"all": "(story,comment)", "story": "story", "comment": "comment"}


class HackerNewsConnector:
    kind = "hackernews"
    platform = "hackernews"
    label = _("Hacker News (Algolia search)")
    fields = (
        ConfigField(
            "query", _("Search query"), required=True,
            help=_("Words to look for in Hacker News stories and comments (Algolia "
                   "full-text search, e.g. acme or \"acme cloud\")."),
        ),
        ConfigField(
            "tags", _("Items"), type="choice", default="all",
            choices=(("all", _("Stories and comments")), ("story", _("Stories only")),
                     ("comment", _("Comments only"))),
        ),
        ConfigField(
            "min_points", _("Minimum points"), type="int",
            help=_("Keep only stories with at least this many points. Comments have no "
                   "points on Hacker News, so this setting keeps stories only."),
        ),
    )

    def coverage(self, config: Mapping[str, JSON]) -> list[str]:
        return [gettext("Algolia returns at most 1,000 results per query: a larger burst "
                        "is read by narrowing the time window, one poll after another.")]

    def validate_config(self, config: Mapping[str, JSON]) -> dict[str, JSON]:
        clean = clean_fields(self.fields, config)
        if not clean["query"]:  # blanks pass clean_fields' emptiness check
            raise invalid("query", gettext("required"))
        if len(clean["query"]) > 500:
            raise invalid("query", gettext("at most %(limit)s characters"), limit=500)
        if "min_points" in clean:
            bounded_int(clean, "min_points", 0, 100_000)
        return clean

    def fetch(self, config: Mapping[str, JSON], cursor: JSON, now: datetime) -> Batch:
        state = _read_cursor(cursor, now)
        since, seen = state["since"], set(state["seen"])
        drain: dict[str, Any] | None = state.get("drain")
        items: dict[str, RawItem] = {}
        url = endpoint("hackernews", BASE_URL) + "/api/v1/search_by_date"
        hint = PollHint()
        with HttpClient() as http:
            for _page in range(PAGES_PER_FETCH):
                until = drain["until"] if drain else None
                page = drain["page"] if drain else 0
                response = http.get(url, params=_params(config, since, until, page), now=now)
                hint = response.hint(honour_cache=False)
                hits, nb_pages, nb_hits = _parse(response.json())
                stamps = [_created(hit) for hit in hits]
                for hit, created in zip(hits, stamps, strict=True):
                    object_id = str(hit.get("objectID") or "")
                    if created is None or created < since or (
                        created == since and object_id in seen
                    ):
                        continue
                    item = _item(hit, created)
                    if item is not None:
                        items.setdefault(item.external_id, item)
                known = [s for s in stamps if s is not None]
                if drain is None:
                    top = max(known, default=since)
                    drain = {"until": top, "page": 0, "top": top, "top_ids": []}
                drain["top_ids"] = _ids_at(drain["top"], hits, stamps, drain["top_ids"])
                next_page = page + 1
                if next_page < nb_pages and next_page * HITS_PER_PAGE < MAX_HITS_PER_QUERY:
                    drain["page"] = next_page
                    continue
                oldest = min(known, default=drain["until"])
                if nb_hits > next_page * HITS_PER_PAGE and since < oldest < drain["until"]:
                    # The query's 1,000-hit bound is reached: narrow the window and go on.
                    drain.update(until=oldest, page=0)
                    continue
                # The window is read: the next pass starts from its newest second.
                top_ids = drain["top_ids"]
                if drain["top"] == since:
                    top_ids = sorted(seen | set(top_ids))
                since, seen, drain = drain["top"], set(top_ids), None
                break
        new_cursor: dict[str, Any] = {"since": since, "seen": sorted(seen)[-MAX_SEEN_IDS:]}
        if drain is not None:
            new_cursor["drain"] = drain
        return Batch(items=list(items.values()), cursor=new_cursor,
                     hint=hint, more=drain is not None)


def _read_cursor(cursor: JSON, now: datetime) -> dict[str, Any]:
    """The stored cursor, or the first poll's: the last day only."""
    if isinstance(cursor, dict) and isinstance(cursor.get("since"), int):
        seen = cursor.get("seen")
        seen = seen if isinstance(seen, list) else []
        state: dict[str, Any] = {"since": cursor["since"], "seen": [str(i) for i in seen]}
        drain = cursor.get("drain")
        if isinstance(drain, dict) and all(
            isinstance(drain.get(key), int) for key in ("until", "page", "top")
        ):
            state["drain"] = {**drain, "top_ids": [str(i) for i in drain.get("top_ids") or []]}
        return state
    return {"since": int((now - FIRST_POLL_LOOKBACK).timestamp()), "seen": []}


def _params(config: Mapping[str, JSON], since: int, until: int | None, page: int) -> dict[str, str]:
    filters = [f"created_at_i>={since}"]
    if until is not None:
        filters.append(f"created_at_i<={until}")
    if config.get("min_points") is not None:
        filters.append(f"points>={int(config['min_points'])}")
    return {
        "query": str(config["query"]),
        "tags": TAGS[str(config.get("tags") or "all")],
        "numericFilters": ",".join(filters),
        "hitsPerPage": str(HITS_PER_PAGE),
        "page": str(page),
    }


def _parse(body: JSON) -> tuple[list[dict[str, Any]], int, int]:
    """hits, nbPages, nbHits of a search answer; SourceError when it is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("hits"), list):
        raise SourceError("hn.algolia.com answered without a list of hits: not a search result")
    hits = [hit for hit in body["hits"] if isinstance(hit, dict)]
    nb_pages = body.get("nbPages")
    nb_hits = body.get("nbHits")
    return (
        hits,
        nb_pages if isinstance(nb_pages, int) else 1,
        nb_hits if isinstance(nb_hits, int) else len(hits),
    )


def _created(hit: Mapping[str, Any]) -> int | None:
    value = hit.get("created_at_i")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = hit.get("created_at")
    if isinstance(text, str):
        try:
            return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
        except ValueError:
            return None
    return None


def _ids_at(second: int, hits: list[dict[str, Any]], stamps: list[int | None],
            known: list[str]) -> list[str]:
    ids = set(known)
    ids.update(str(hit.get("objectID")) for hit, created in zip(hits, stamps, strict=True)
               if created == second and hit.get("objectID"))
    return sorted(ids)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _item(hit: Mapping[str, Any], created: int) -> RawItem | None:
    """One hit as a raw item; None for a hit with no id or no words (deleted, dead)."""
    object_id = str(hit.get("objectID") or "").strip()
    if not object_id:
        return None
    tags = hit.get("_tags")
    tags = tags if isinstance(tags, list) else []
    is_comment = "comment" in tags or (
        "story" not in tags and isinstance(hit.get("comment_text"), str))
    author = str(hit.get("author") or "")
    item_url = ITEM_URL.format(id=object_id)
    extra: dict[str, JSON] = {}
    if is_comment:
        text = html_to_text(str(hit.get("comment_text") or ""))
        # The story's title stays out of ``title``: sentiment and matching read the
        # title, and a comment's words are its own.
        title = ""
        url = item_url
        extra["item_type"] = "comment"
        if hit.get("story_title"):
            extra["story_title"] = str(hit["story_title"])
        if _int(hit.get("parent_id")) is not None:
            extra["parent_id"] = str(hit["parent_id"])
        if _int(hit.get("story_id")) is not None:
            extra["thread_id"] = str(hit["story_id"])
    else:
        text = html_to_text(str(hit.get("story_text") or ""))
        title = str(hit.get("title") or "")
        url = str(hit.get("url") or "") or item_url
        extra["item_type"] = "story"
        extra["thread_id"] = object_id
        if _int(hit.get("num_comments")) is not None:
            extra["num_comments"] = hit["num_comments"]
    if not text and not title:
        return None
    extra["discussion_url"] = item_url
    if _int(hit.get("points")) is not None:
        extra["score"] = hit["points"]
    return RawItem(
        external_id=object_id,
        text=text,
        title=title,
        url=url,
        published_at=datetime.fromtimestamp(created, UTC),
        author_handle=author,
        author_name=author,
        author_url=USER_URL.format(name=author) if author else "",
        extra=extra,
    )
