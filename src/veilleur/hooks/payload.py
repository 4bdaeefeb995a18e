"""The JSON a webhook sender pushes, checked item by item before anything is stored.

A body is either ``{"items": [item, ...]}`` or one item object. An item::

    {"id": "...", "text": "...", "title": "...", "url": "https://...",
     "author": "handle", "author_name": "...", "author_url": "https://...",
     "followers": 1200, "published_at": "2025-03-04T09:15:00+01:00", "lang": "fr",
     "rating": 4, "thread_id": "...", "parent_id": "...", "platform": "zapier"}

Only ``text`` or ``title`` is required. Unknown fields are refused rather than
ignored, so a misspelt field (``"txt"``) fails loudly instead of storing empty
mentions. An item without ``id`` gets one derived from its content, so that a
resent item is still recognised as the same one. The whole body is refused at the
first bad item, with its position and the reason: nothing of it is stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from veilleur.analysis.text import clean_text

MAX_ITEMS = 500
MAX_ID_CHARS = 512
MAX_SHORT_CHARS = 2048  # ids, handles, names, URLs
MAX_TEXT_CHARS = 100_000

_STRING_FIELDS = ("text", "title", "author", "author_name")
_URL_FIELDS = ("url", "author_url")
_ID_FIELDS = ("id", "thread_id", "parent_id")
ALLOWED_FIELDS = frozenset(
    {*_STRING_FIELDS, *_URL_FIELDS, *_ID_FIELDS, "followers", "published_at", "lang",
     "rating", "platform"}
)
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
_PLATFORM = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")


class PayloadInvalid(ValueError):
    """The body cannot be accepted; the message names the item and the field."""


def parse_body(body: bytes) -> list[dict[str, Any]]:
    """The validated items of a raw request body (PayloadInvalid otherwise)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise PayloadInvalid("the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise PayloadInvalid(
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise PayloadInvalid("the body is not valid JSON: nested too deeply") from None
    return clean_items(data)


def clean_items(data: Any) -> list[dict[str, Any]]:
    """Validated items of a decoded body: ``{"items": [...]}`` or a single item."""
    if isinstance(data, dict) and "items" in data:
        if set(data) != {"items"}:
            extra = sorted(set(data) - {"items"})[0]
            raise PayloadInvalid(f"{extra}: unknown field next to 'items'")
        items = data["items"]
        if not isinstance(items, list):
            raise PayloadInvalid("items: expected a list of item objects")
        batch = True
    elif isinstance(data, dict):
        items, batch = [data], False
    else:
        raise PayloadInvalid(
            'expected a JSON object: {"items": [...]} or a single item with "text"')
    if len(items) > MAX_ITEMS:
        raise PayloadInvalid(f"items: {len(items)} items, at most {MAX_ITEMS} per request")
    cleaned = []
    for index, item in enumerate(items):
        label = f"items[{index}]" if batch else "item"
        try:
            cleaned.append(clean_item(item))
        except PayloadInvalid as exc:
            raise PayloadInvalid(f"{label}{exc}") from None
    return cleaned


def clean_item(item: Any) -> dict[str, Any]:
    """One validated item; PayloadInvalid messages start with ``.field: `` (or ``: ``)."""
    if not isinstance(item, dict):
        raise PayloadInvalid(": expected an object")
    unknown = sorted(set(item) - ALLOWED_FIELDS)
    if unknown:
        raise PayloadInvalid(
            f".{unknown[0]}: unknown field; allowed: {', '.join(sorted(ALLOWED_FIELDS))}")
    out: dict[str, Any] = {}
    for name in _STRING_FIELDS:
        value = _string(item, name, MAX_TEXT_CHARS if name == "text" else MAX_SHORT_CHARS)
        if value:
            out[name] = value
    # Judged as the pipeline will store them: a text of control or zero-width
    # characters only would be accepted here, then dropped after the 202.
    if not clean_text(out.get("text", "")) and not clean_text(out.get("title", "")):
        raise PayloadInvalid(": needs a non-empty 'text' or 'title'")
    for name in _URL_FIELDS:
        url = _string(item, name, MAX_SHORT_CHARS).strip()
        if url:
            if not re.match(r"^https?://[^\s/?#]+", url, re.IGNORECASE) or any(
                ch.isspace() for ch in url
            ):
                raise PayloadInvalid(f".{name}: expected an absolute http(s) URL")
            out[name] = url
    for name in _ID_FIELDS:
        ident = _identifier(item, name)
        if ident:
            out[name] = ident
    if item.get("followers") is not None:
        out["followers"] = _whole(item, "followers", 0, 10**12)
    if item.get("rating") is not None:
        out["rating"] = _whole(item, "rating", 1, 5)
    if item.get("published_at") not in (None, ""):
        out["published_at"] = _timestamp(item["published_at"])
    lang = _string(item, "lang", 16).strip()
    if lang:
        if not _LANG.match(lang):
            raise PayloadInvalid(".lang: expected a language code such as 'fr' or 'en-GB'")
        out["lang"] = lang.lower()
    platform = _string(item, "platform", 32).strip().lower()
    if platform:
        if not _PLATFORM.match(platform):
            raise PayloadInvalid(".platform: expected a short lower-case name such as 'zapier'")
        out["platform"] = platform
    if "id" not in out:
        out["id"] = content_id(out)
    return out


def content_id(item: dict[str, Any]) -> str:
    """A stable id for an item sent without one: a hash of what it says."""
    canonical = json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _string(item: dict[str, Any], name: str, limit: int) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadInvalid(f".{name}: expected a string")
    if len(value) > limit:
        raise PayloadInvalid(f".{name}: longer than {limit} characters")
    return value


def _identifier(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadInvalid(f".{name}: expected a string or a whole number")
    text = str(value).strip()
    if not clean_text(text) or len(text) > MAX_ID_CHARS or any(ch in text for ch in "\r\n\x00"):
        raise PayloadInvalid(f".{name}: expected 1 to {MAX_ID_CHARS} characters on one line")
    return text


def _whole(item: dict[str, Any], name: str, low: int, high: int) -> int:
    value = item[name]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PayloadInvalid(f".{name}: expected a whole number from {low} to {high}")
    return value


def _timestamp(value: Any) -> str:
    """ISO 8601 in UTC; a time without offset is taken as UTC."""
    if not isinstance(value, str) or len(value) > 64:
        raise PayloadInvalid(".published_at: expected an ISO 8601 date and time")
    try:
        when = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        raise PayloadInvalid(
            f".published_at: {value!r} is not an ISO 8601 date and time "
            "(e.g. 2025-03-04T09:15:00+01:00)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC).isoformat()
    except OverflowError:
        raise PayloadInvalid(f".published_at: {value!r} is out of range") from None
