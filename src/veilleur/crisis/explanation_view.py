"""A signal's stored explanation, shaped for the incident page.

The explanation (``analysis.detection.explain``) is JSON written by a detector from
mentions strangers wrote: terms, hashtags, sources, authors, example texts and links.
Here it is read defensively (any shape, any type) and cut to size; the template
escapes every string, and links are kept only when they are plain http(s) URLs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from veilleur.analysis.normalise import safe_url
from veilleur.crisis.alert_text import clean
from veilleur.monitoring.models import Sentiment

LABEL_LIMIT = 80
TEXT_LIMIT = 400
LIST_LIMIT = 8
EXAMPLES = 5
DETAIL_LIMIT = 300

_LABEL_KEYS = ("label", "term", "tag", "hashtag", "name", "source", "domain", "handle",
               "author", "display_name")
_FIGURE_KEYS = ("count", "mentions", "n")


@dataclass(frozen=True)
class Item:
    """A term, hashtag, source or author, with how many mentions carry it when known."""

    label: str
    count: int | None = None
    reach: int | None = None


@dataclass(frozen=True)
class Share:
    """One sentiment's part of the window's mentions; ``width`` is a CSS percentage."""

    sentiment: str
    count: int
    percent: int
    width: str


@dataclass(frozen=True)
class Example:
    text: str
    author: str
    link: str
    sentiment: str
    reach: int | None
    mention_id: int | None


@dataclass
class Explanation:
    """What the page shows of one signal's explanation; empty lists are left out."""

    mentions: int | None = None
    terms: list[Item] = field(default_factory=list)
    hashtags: list[Item] = field(default_factory=list)
    sources: list[Item] = field(default_factory=list)
    authors: list[Item] = field(default_factory=list)
    sentiment: list[Share] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    # The detector's own figures ("volume" summaries, "details"): (name, value) lines.
    technical: list[tuple[str, str]] = field(default_factory=list)


def _int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _item(raw: object, prefix: str = "") -> Item | None:
    if isinstance(raw, Mapping):
        label = next((raw[k] for k in _LABEL_KEYS if raw.get(k)), "")
        count = next((_int(raw[k]) for k in _FIGURE_KEYS if _int(raw.get(k)) is not None),
                     None)
        reach = _int(raw.get("reach"))
    elif isinstance(raw, list | tuple) and raw:
        label, count, reach = raw[0], _int(raw[1]) if len(raw) > 1 else None, None
    else:
        label, count, reach = raw, None, None
    text = clean(label, LABEL_LIMIT)
    if not text:
        return None
    if prefix and not text.startswith(prefix):
        text = prefix + text
    return Item(text, count, reach)


def _items(raw: object, prefix: str = "") -> list[Item]:
    if not isinstance(raw, list | tuple):
        return []
    items = (_item(entry, prefix) for entry in raw[:LIST_LIMIT])
    return [item for item in items if item is not None]


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _sentiment(raw: object) -> list[Share]:
    if not isinstance(raw, Mapping):
        return []
    counts = {s: max(_int(raw.get(s)) or 0, 0) for s in (*Sentiment.values, "unscored")}
    total = sum(counts.values())
    if total <= 0:
        return []
    return [Share("" if s == "unscored" else s, n, round(100 * n / total),
                  _number(100 * n / total))
            for s, n in counts.items() if n]


def _examples(raw: object) -> list[Example]:
    if not isinstance(raw, list | tuple):
        return []
    examples: list[Example] = []
    for entry in raw:
        if len(examples) >= EXAMPLES:
            break
        data: Mapping[str, Any] = entry if isinstance(entry, Mapping) else {"text": entry}
        text = clean(data.get("text"), TEXT_LIMIT)
        if not text:
            continue
        sentiment = data.get("sentiment")
        examples.append(Example(
            text=text, author=clean(data.get("author"), LABEL_LIMIT),
            link=safe_url(str(data.get("url") or "")),
            sentiment=sentiment if sentiment in Sentiment.values else "",
            reach=_int(data.get("reach")), mention_id=_int(data.get("id")),
        ))
    return examples


def _technical(explanation: Mapping[str, Any]) -> list[tuple[str, str]]:
    lines = []
    volume = explanation.get("volume")
    if isinstance(volume, Mapping):
        lines += [(clean(name, LABEL_LIMIT), clean(summary, DETAIL_LIMIT))
                  for name, summary in list(volume.items())[:LIST_LIMIT]]
    details = explanation.get("details")
    if isinstance(details, Mapping):
        for name, value in list(details.items())[:LIST_LIMIT]:
            shown = ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else value
            lines.append((clean(name, LABEL_LIMIT), clean(shown, DETAIL_LIMIT)))
    return [(name, value) for name, value in lines if name]


def readable(explanation: object) -> Explanation:
    """The parts of a stored explanation a person reads, whatever its shape."""
    if not isinstance(explanation, Mapping):
        return Explanation()
    return Explanation(
        mentions=_int(explanation.get("mentions")),
        terms=_items(explanation.get("top_terms")),
        hashtags=_items(explanation.get("hashtags"), prefix="#"),
        sources=_items(explanation.get("sources")),
        authors=_items(explanation.get("authors")),
        sentiment=_sentiment(explanation.get("sentiment")),
        examples=_examples(explanation.get("examples")),
        technical=_technical(explanation),
    )
