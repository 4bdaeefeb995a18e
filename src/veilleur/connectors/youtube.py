"""YouTube comments through the YouTube Data API v3 (``commentThreads.list``), with an API key.

``GET https://www.googleapis.com/youtube/v3/commentThreads?part=snippet,replies``
for each watched video (``videoId``) and for a channel (``allThreadsRelatedToChannelId``:
comments on all its videos), newest first (``order=time``), 100 threads a page. Each
call costs 1 unit of the key's 10,000 units a day.

**Cursor.** ``{"targets": {"video:ID" | "channel:ID": state}, "next": index}``. A
target's state holds ``since`` (the newest ``publishedAt`` seen) and the comment ids
seen at that instant; paging stops at the first thread already seen. A target that
needs more than ``MAX_PAGES_PER_TARGET`` pages keeps a ``pending`` page token and goes
on at the next fetch (``more=True``); ``next`` rotates where a fetch starts, so a
source with many videos is served fairly within ``MAX_CALLS_PER_FETCH`` calls.

**Errors.** Google answers JSON errors (``{"error": {"code", "message", "errors":
[{"domain", "reason", "message"}]}}``): ``quotaExceeded`` waits until the quota resets
(midnight, Pacific time); ``commentsDisabled`` and ``videoNotFound`` skip that video
with a note (re-checked daily) instead of failing the source, unless no target is
left; an invalid key is permanent. The key travels in the query string: every message
is built without the URL and scrubbed of the key.

Replying (which needs OAuth) is out of scope.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from veilleur.connectors.base import (
    JSON,
    Batch,
    ConfigField,
    RawItem,
    SourceError,
)
from veilleur.connectors.fields import clean_fields, invalid
from veilleur.connectors.html_text import html_to_text
from veilleur.connectors.http import HttpClient, Response, endpoint, wait_hint
from veilleur.connectors.timestamps import parse_iso

log = logging.getLogger(__name__)

BASE_URL = "https://www.googleapis.com/youtube/v3"
WATCH_URL = "https://www.youtube.com/watch?v={video}&lc={comment}"
CHANNEL_URL = "https://www.youtube.com/channel/{channel}"
MAX_RESULTS = 100
MAX_PAGES_PER_TARGET = 3
MAX_CALLS_PER_FETCH = 10
MAX_ITEMS = 300
MAX_VIDEOS = 50
MAX_SEEN_IDS = 200
MAX_TOKEN_CHARS = 2048  # a longer page token is not kept in the cursor: paging stops
FIRST_POLL_LOOKBACK = timedelta(days=7)
SKIP_RECHECK = timedelta(days=1)
RATE_LIMIT_WAIT = 60.0
PACIFIC = ZoneInfo("America/Los_Angeles")
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
KEY_REASONS = frozenset({"keyInvalid", "API_KEY_INVALID", "keyExpired", "API_KEY_EXPIRED"})

_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_CHANNEL_ID = re.compile(r"UC[A-Za-z0-9_-]{22}")
_KEY = re.compile(r"[A-Za-z0-9_-]{20,100}")
_KEY_LIKE = re.compile(r"AIza[0-9A-Za-z_-]{20,}|(?<=key=)[^&\s\"']+")


class YouTubeConnector:
    kind = "youtube"
    platform = "youtube"
    label = _("YouTube comments")
    fields = (
        ConfigField(
            "api_key", _("API key"), type="secret", required=True,
            help=_("A YouTube Data API v3 key from the Google Cloud console "
                   "(APIs & Services > Credentials)."),
        ),
        ConfigField(
            "video_ids", _("Videos"), type="lines",
            help=_("Videos whose comments to read, one per line: an ID (11 characters) "
                   "or a youtube.com / youtu.be address."),
        ),
        ConfigField(
            "channel_id", _("Channel ID"),
            help=_("Read the comments on all videos of this channel: its ID, 24 "
                   "characters starting with UC (not the @handle)."),
        ),
    )

    def coverage(self, config: Mapping[str, JSON]) -> list[str]:
        return [gettext("The API key has 10,000 quota units a day (about one per 100 "
                        "comments read): many videos polled often can run out, and "
                        "reading waits until the quota resets at midnight Pacific time.")]

    def validate_config(self, config: Mapping[str, JSON]) -> dict[str, JSON]:
        clean = clean_fields(self.fields, config)
        key = str(clean["api_key"])
        if not _KEY.fullmatch(key):
            raise invalid("api_key", gettext("this does not look like a Google API key"))
        videos: list[str] = []
        for value in clean.get("video_ids") or []:
            video = video_id(str(value))
            if video is None:
                raise invalid(
                    "video_ids", gettext("%(value)s is not a YouTube video ID or address"),
                    value=repr(str(value)[:80]))
            if video not in videos:
                videos.append(video)
        if len(videos) > MAX_VIDEOS:
            raise invalid("video_ids", gettext("at most %(limit)s videos per source"),
                          limit=MAX_VIDEOS)
        if videos:
            clean["video_ids"] = videos
        else:
            clean.pop("video_ids", None)
        channel = str(clean.get("channel_id") or "")
        if channel and not _CHANNEL_ID.fullmatch(channel):
            raise invalid("channel_id", gettext(
                "expected a channel ID (24 characters starting with UC, shown "
                "in the channel's address or its 'Share channel' menu), not a @handle"))
        if not channel:
            clean.pop("channel_id", None)
        if not videos and not channel:
            raise invalid("video_ids", gettext("give at least one video, or a channel_id"))
        return clean

    def fetch(self, config: Mapping[str, JSON], cursor: JSON, now: datetime) -> Batch:
        key = str(config.get("api_key") or "")
        targets = _targets(config)
        if not key or not targets:
            raise SourceError("youtube: the source has no API key or nothing to watch",
                              permanent=True)
        old = cursor if isinstance(cursor, dict) else {}
        stored = old.get("targets")
        stored = stored if isinstance(stored, dict) else {}
        states = {name: _state(stored.get(name), now) for name, _params in targets}
        start = old.get("next")
        start = start if isinstance(start, int) and 0 < start < len(targets) else 0
        if start:
            order = list(range(start, len(targets)))  # the rest of an unfinished round
        elif old.get("pending_only"):
            order = [i for i, (name, _p) in enumerate(targets) if "pending" in states[name]]
        else:
            order = list(range(len(targets)))
        poller = _Poller(key, now)
        next_index, cut = 0, False
        with HttpClient() as http:
            for index in order:
                name, selector = targets[index]
                if poller.calls >= MAX_CALLS_PER_FETCH or len(poller.items) >= MAX_ITEMS:
                    cut = True
                    next_index = index if start or not old.get("pending_only") else 0
                    break
                states[name] = poller.poll(http, name, selector, states[name])
        pending = any("pending" in state for state in states.values())
        new_cursor: dict[str, Any] = {"targets": states, "next": next_index}
        if pending and (not cut or next_index == 0):
            # The round is done but some targets have pages left: the next fetch
            # reads only those, instead of calling every target again.
            new_cursor["pending_only"] = True
        if all(state.get("skipped", {}).get("code") == "missing" for state in states.values()):
            names = ", ".join(name.split(":", 1)[1] for name, _params in targets)
            raise SourceError(
                f"YouTube does not know the videos or channel of this source ({names}): "
                "check video_ids and channel_id", permanent=True)
        return Batch(items=list(poller.items.values()), cursor=new_cursor,
                     more=cut or pending)


def video_id(value: str) -> str | None:
    """The video ID in an ID, a watch/shorts/live/embed address or a youtu.be link."""
    value = value.strip()
    if _VIDEO_ID.fullmatch(value):
        return value
    try:
        parts = urlsplit(value if "//" in value else "https://" + value)
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    candidate = ""
    if host == "youtu.be":
        candidate = parts.path.strip("/").split("/")[0]
    elif host in ("youtube.com", "music.youtube.com"):
        if parts.path == "/watch":
            candidate = (parse_qs(parts.query).get("v") or [""])[0]
        else:
            segments = parts.path.strip("/").split("/")
            if len(segments) >= 2 and segments[0] in ("shorts", "live", "embed", "v"):
                candidate = segments[1]
    return candidate if _VIDEO_ID.fullmatch(candidate) else None


def _targets(config: Mapping[str, JSON]) -> list[tuple[str, dict[str, str]]]:
    targets = [(f"video:{video}", {"videoId": video})
               for video in config.get("video_ids") or [] if isinstance(video, str)]
    channel = config.get("channel_id")
    if isinstance(channel, str) and channel:
        targets.append((f"channel:{channel}", {"allThreadsRelatedToChannelId": channel}))
    return targets


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _state(raw: Any, now: datetime) -> dict[str, Any]:
    """A target's stored state, checked; a new target starts FIRST_POLL_LOOKBACK ago."""
    raw = raw if isinstance(raw, dict) else {}
    since = parse_iso(raw.get("since")) or (now - FIRST_POLL_LOOKBACK)
    state: dict[str, Any] = {"since": _stamp(since),
                             "ids": [str(i) for i in raw.get("ids") or [] if i]}
    pending = raw.get("pending")
    if isinstance(pending, dict) and isinstance(pending.get("token"), str):
        state["pending"] = {
            "token": pending["token"],
            "top": _stamp(parse_iso(pending.get("top")) or since),
            "top_ids": [str(i) for i in pending.get("top_ids") or [] if i],
        }
    skipped = raw.get("skipped")
    if isinstance(skipped, dict) and parse_iso(skipped.get("until")):
        state["skipped"] = {"code": str(skipped.get("code") or ""),
                            "note": str(skipped.get("note") or ""),
                            "until": str(skipped["until"])}
    return state


def pacific_midnight_wait(now: datetime) -> float:
    """Seconds until the next midnight in California, when YouTube quotas reset."""
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), clock(0), tzinfo=PACIFIC)
    return (midnight - now).total_seconds() + 60.0


class _Poller:
    """The calls of one fetch: budget, items, and Google's error answers."""

    def __init__(self, key: str, now: datetime) -> None:
        self.key = key
        self.now = now
        self.calls = 0
        self.items: dict[str, RawItem] = {}
        self.url = endpoint("youtube", BASE_URL) + "/commentThreads"

    def scrub(self, text: str) -> str:
        """``text`` without the API key, whatever echoed it."""
        if self.key:
            text = text.replace(self.key, "[key]")
        return _KEY_LIKE.sub("[key]", text)

    def poll(self, http: HttpClient, name: str, selector: dict[str, str],
             state: dict[str, Any]) -> dict[str, Any]:
        """Read one target's new threads (a few pages at most); its new state."""
        skipped = state.get("skipped")
        if skipped:
            until = parse_iso(skipped.get("until"))
            if until is not None and until > self.now:
                return state
            state = {key: value for key, value in state.items() if key != "skipped"}
        since = parse_iso(state["since"]) or self.now - FIRST_POLL_LOOKBACK
        ids = set(state["ids"])
        pending = state.get("pending") or {}
        token: str | None = pending.get("token")
        top = parse_iso(pending.get("top"))
        top_ids = set(pending.get("top_ids") or [])
        pages = 0
        used: set[str] = set()  # page tokens asked for by this poll
        while pages < MAX_PAGES_PER_TARGET and self.calls < MAX_CALLS_PER_FETCH:
            params = {"part": "snippet,replies", **selector, "order": "time",
                      "maxResults": str(MAX_RESULTS), "textFormat": "plainText",
                      "key": self.key}
            if token:
                params["pageToken"] = token
                used.add(token)
            try:
                response = http.get(self.url, params=params, check=False, now=self.now)
            except SourceError as exc:
                raise SourceError(self.scrub(str(exc)), permanent=exc.permanent,
                                  retry_after=exc.retry_after) from None
            self.calls += 1
            pages += 1
            if response.status >= 400:
                outcome = self.refusal(response, name, state, bool(token))
                if outcome == "restart":
                    token, top, top_ids = None, None, set()
                    continue
                return outcome
            body = response.json()
            if not isinstance(body, dict) or not isinstance(body.get("items", []), list):
                raise SourceError("YouTube answered something that is not a list of "
                                  "comment threads")
            reached = False
            for thread in body.get("items", []):
                published, thread_id = self.add_thread(thread, since, ids)
                if published is None:
                    continue
                if top is None or published > top:
                    top, top_ids = published, {thread_id}
                elif published == top:
                    top_ids.add(thread_id)
                if published < since or (published == since and thread_id in ids):
                    reached = True
            next_token = body.get("nextPageToken")
            token = next_token if isinstance(next_token, str) and next_token else None
            if token is not None and (token in used or len(token) > MAX_TOKEN_CHARS):
                # A server that does not move on (the same token again) would keep a
                # backlog pending, and the source re-polled at once, for ever.
                log.warning("youtube: %s answered a page token already used (or an "
                            "oversized one); paging stops", name.replace(":", " ", 1))
                token = None
            if reached or token is None:
                newest = top if top is not None and top >= since else since
                seen = top_ids if newest != since else top_ids | ids
                return {"since": _stamp(newest), "ids": sorted(seen)[:MAX_SEEN_IDS]}
        return {"since": state["since"], "ids": state["ids"],
                "pending": {"token": token, "top": _stamp(top or since),
                            "top_ids": sorted(top_ids)[:MAX_SEEN_IDS]}}

    def add_thread(self, thread: Any, since: datetime,
                   ids: set[str]) -> tuple[datetime | None, str]:
        """Keep a thread's new comments; its top comment's time and the thread id."""
        if not isinstance(thread, dict) or not isinstance(thread.get("snippet"), dict):
            return None, ""
        snippet = thread["snippet"]
        top_comment = snippet.get("topLevelComment")
        if not isinstance(top_comment, dict):
            return None, ""
        thread_id = str(thread.get("id") or top_comment.get("id") or "")
        published = parse_iso((top_comment.get("snippet") or {}).get("publishedAt"))
        if not thread_id or published is None:
            return None, ""
        if published < since or (published == since and thread_id in ids):
            return published, thread_id
        video = str(snippet.get("videoId") or "")
        channel = str(snippet.get("channelId") or "")
        first = _comment(top_comment, video, channel, thread_id, None,
                         snippet.get("totalReplyCount"))
        if first is not None:
            self.items.setdefault(first.external_id, first)
        replies = thread.get("replies")
        comments = replies.get("comments") if isinstance(replies, dict) else None
        for reply in comments if isinstance(comments, list) else []:
            if isinstance(reply, dict):
                parent = str((reply.get("snippet") or {}).get("parentId") or thread_id)
                item = _comment(reply, video, channel, thread_id, parent, None)
                if item is not None:
                    self.items.setdefault(item.external_id, item)
        return published, thread_id

    def refusal(self, response: Response, name: str, state: dict[str, Any],
                paging: bool) -> Any:
        """A Google error answer: raise, skip the target (its new state) or 'restart'."""
        status = response.status
        reason, message = _google_error(response)
        message = self.scrub(message)
        target = name.replace(":", " ", 1)
        if reason in QUOTA_REASONS:
            wait = pacific_midnight_wait(self.now)
            raise SourceError(
                "YouTube: the daily quota of this API key is used up; it resets at "
                f"midnight Pacific time (in {wait / 3600:.1f} h)", retry_after=wait)
        if reason in RATE_REASONS or status == 429:
            wait = wait_hint(response.headers, self.now) or RATE_LIMIT_WAIT
            raise SourceError(f"YouTube is rate limiting this key (HTTP {status})",
                              retry_after=wait)
        if reason in KEY_REASONS or "API key not valid" in message:
            raise SourceError(
                "YouTube: the API key is invalid: check it in the Google Cloud console and "
                "enter it again", permanent=True)
        if reason == "commentsDisabled":
            return self.skip(state, target, "comments", "comments are disabled on this video")
        if reason in ("videoNotFound", "channelNotFound") or status == 404:
            return self.skip(state, target, "missing", "YouTube does not know it (removed, "
                             "private or mistyped)")
        if reason == "invalidPageToken" and paging:
            log.info("youtube: the page token of %s expired; reading from the top", target)
            return "restart"
        if status >= 500:
            raise SourceError(f"YouTube had a server error (HTTP {status}); will retry",
                              retry_after=wait_hint(response.headers, self.now))
        why = f" ({reason})" if reason else ""
        detail = f": {message}" if message else ""
        raise SourceError(f"YouTube refused the request (HTTP {status}){why}{detail}",
                          permanent=True)

    def skip(self, state: dict[str, Any], target: str, code: str, note: str) -> dict[str, Any]:
        log.warning("youtube: %s skipped until tomorrow: %s", target, note)
        return {"since": state["since"], "ids": state["ids"],
                "skipped": {"code": code, "note": note,
                            "until": _stamp(self.now + SKIP_RECHECK)}}


def _google_error(response: Response) -> tuple[str, str]:
    """(reason, plain message) of a Google API error body; empty strings if none."""
    try:
        body = response.json()
    except SourceError:
        return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    reason = ""
    errors = error.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        reason = str(errors[0].get("reason") or "")
    details = error.get("details")
    if isinstance(details, list):
        for detail in details:
            if isinstance(detail, dict) and detail.get("reason") in KEY_REASONS:
                reason = str(detail["reason"])
    message = html_to_text(str(error.get("message") or ""))
    return reason, " ".join(message.split())[:300]


def _comment(comment: Mapping[str, Any], video: str, channel: str, thread_id: str,
             parent: str | None, replies: Any) -> RawItem | None:
    snippet = comment.get("snippet")
    comment_id = str(comment.get("id") or "")
    if not isinstance(snippet, dict) or not comment_id:
        return None
    # textFormat=plainText: textDisplay is already plain text.
    text = str(snippet.get("textDisplay") or snippet.get("textOriginal") or "")
    video = str(snippet.get("videoId") or video)
    name = str(snippet.get("authorDisplayName") or "")
    author_channel = snippet.get("authorChannelId")
    extra: dict[str, JSON] = {"item_type": "comment", "comment_thread_id": thread_id}
    if video:
        extra["thread_id"] = video
        extra["video_id"] = video
    if parent:
        extra["parent_id"] = parent
    likes = snippet.get("likeCount")
    if isinstance(likes, int) and not isinstance(likes, bool):
        extra["score"] = likes
    if isinstance(replies, int) and not isinstance(replies, bool):
        extra["reply_count"] = replies
    handle = name
    if isinstance(author_channel, dict) and author_channel.get("value"):
        extra["author_channel_id"] = str(author_channel["value"])
        # The channel id, as the rss connector's YouTube feeds use: one author per
        # channel whichever connector saw it (display names change, ids do not).
        handle = str(author_channel["value"])
    if video:
        url = WATCH_URL.format(video=video, comment=comment_id)
    else:
        url = CHANNEL_URL.format(channel=channel) if channel else ""
    return RawItem(
        external_id=comment_id,
        text=text,
        url=url,
        published_at=parse_iso(snippet.get("publishedAt")),
        author_handle=handle,
        author_name=name,
        author_url=str(snippet.get("authorChannelUrl") or ""),
        extra=extra,
    )
