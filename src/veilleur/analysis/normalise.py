"""Turn a connector's raw item into a bounded, clean mention record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from veilleur.analysis.text import MAX_TITLE_CHARS, clean_text, content_hash
from veilleur.connectors.base import RawItem

MAX_URL_CHARS = 2048
MAX_ID_CHARS = 512
MAX_HANDLE_CHARS = 255
# Sources whose clocks run ahead (or lie) must not put mentions in the future.
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class NormalisedItem:
    external_id: str
    text: str
    title: str
    url: str
    published_at: datetime
    content_hash: str
    author_handle: str
    author_name: str
    author_followers: int | None
    author_verified: bool
    author_url: str
    lang_hint: str
    reach: int | None
    platform: str
    extra: dict[str, Any] = field(default_factory=dict)


class InvalidItem(ValueError):
    """The item cannot become a mention (no id, no text)."""


def safe_url(url: str) -> str:
    """Keep only absolute http(s) URLs of sane length; anything else becomes ''."""
    url = url.strip()
    if not url or len(url) > MAX_URL_CHARS:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return ""
    if any(ch in url for ch in "\x00\n\r\t "):
        return ""
    return url


def _count(value: int | None) -> int | None:
    if value is None:
        return None
    return max(0, min(int(value), 10**12))


def normalise(raw: RawItem, now: datetime) -> NormalisedItem:
    """Clean one raw item; raise InvalidItem when it has no usable id or text."""
    external_id = clean_text(raw.external_id, MAX_ID_CHARS).replace("\n", " ")
    if not external_id:
        raise InvalidItem("item has no id")
    text = clean_text(raw.text)
    title = clean_text(raw.title, MAX_TITLE_CHARS).replace("\n", " ")
    if not text and not title:
        raise InvalidItem(f"item {external_id!r} has no text")
    published = raw.published_at or now
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    if published > now + FUTURE_TOLERANCE:
        published = now
    return NormalisedItem(
        external_id=external_id,
        text=text or title,
        title=title,
        url=safe_url(raw.url),
        published_at=published,
        content_hash=content_hash(text or title),
        author_handle=clean_text(raw.author_handle, MAX_HANDLE_CHARS).replace("\n", " "),
        author_name=clean_text(raw.author_name, MAX_HANDLE_CHARS).replace("\n", " "),
        author_followers=_count(raw.author_followers),
        author_verified=bool(raw.author_verified),
        author_url=safe_url(raw.author_url),
        lang_hint=clean_text(raw.lang_hint, 8).lower()[:8],
        reach=_count(raw.reach),
        platform=clean_text(raw.platform, 32).lower().replace("\n", " "),
        extra=dict(raw.extra),
    )
