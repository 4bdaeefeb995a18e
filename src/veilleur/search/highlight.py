"""Highlighted snippets, built from escaped pieces: mention text is hostile.

No database output is ever trusted as HTML: the snippet is always rendered here
from the original text, assembled from ``escape()``-d slices and literal ``<mark>``
tags. On SQLite the hits are found in Python with the same folding as the index
(``degoute`` marks ``dégoûté``). On PostgreSQL ``ts_headline`` says *which words*
are hits, since it knows the stemming ("refunds" marks "refunded"): it wraps them
in control characters that were removed from the text beforehand, so a mention
cannot forge a hit.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from veilleur.search.query import WORD, SearchQuery, Term, fold

# Control characters ts_headline wraps hits in (see backends.HEADLINE_OPTIONS). They are
# stripped from the text before ts_headline sees it, so only ts_headline can emit them.
START, STOP = "\x02", "\x03"
MARKERS = START + STOP
ELLIPSIS = "…"
# Characters of a mention scanned for hits: a snippet is about the beginning of a text,
# and a hostile 10 MB "mention" must not cost 10 MB of tokenising per page.
MAX_SCANNED_CHARS = 20_000
SNIPPET_CHARS = 400
TITLE_CHARS = 200


@dataclass(frozen=True)
class Highlight:
    """A mention's title and text as safe HTML, hits wrapped in ``<mark>``."""

    title: SafeString
    text: SafeString


def strip_markers(text: str) -> str:
    """``text`` without the marker characters (what ts_headline is given)."""
    return text.translate({ord(c): None for c in MARKERS})


def hit_spans(text: str, query: SearchQuery) -> list[tuple[int, int]]:
    """Character ranges of ``text`` that the required terms of ``query`` match, merged."""
    tokens = [(m.start(), m.end(), fold(m.group())) for m in WORD.finditer(text)]
    folded = [t[2] for t in tokens]
    spans = []
    for term in query.include:
        wanted = term.folded
        size = len(wanted)
        for i in range(len(tokens) - size + 1):
            if term.prefix:
                hit = folded[i].startswith(wanted[0])
            else:
                hit = tuple(folded[i : i + size]) == wanted
            if hit:
                spans.append((tokens[i][0], tokens[i + size - 1][1]))
    return merge_spans(spans)


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping spans, as :func:`render` needs them."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _window(text: str, first_hit: int, size: int) -> tuple[int, int]:
    """A ``size``-character window showing ``first_hit`` with some context before it."""
    if len(text) <= size:
        return 0, len(text)
    start = max(0, min(first_hit - size // 4, len(text) - size))
    if start > 0:
        # Start on a word boundary rather than in the middle of a word.
        space = text.find(" ", start, first_hit)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return start, end


def render(text: str, spans: list[tuple[int, int]], size: int) -> SafeString:
    """A window of ``text`` (at most ``size`` characters) with ``spans`` marked, escaped."""
    first = spans[0][0] if spans else 0
    start, end = _window(text, first, size)
    parts = [ELLIPSIS + " "] if start > 0 else []
    pos = start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        parts.append(escape(text[pos:s]))
        parts.append("<mark>" + escape(text[s:e]) + "</mark>")
        pos = e
    parts.append(escape(text[pos:end]))
    if end < len(text):
        parts.append(" " + ELLIPSIS)
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text is escaped above


def _prepared(text: str) -> str:
    # NFC so that "e" + combining accent is one letter, as the tokenizer sees it.
    return unicodedata.normalize("NFC", text[:MAX_SCANNED_CHARS])


def highlight(title: str, text: str, query: SearchQuery) -> Highlight:
    """Title and a text snippet of one mention with the hits of ``query`` marked."""
    title, text = _prepared(title), _prepared(text)
    return Highlight(
        title=render(title, hit_spans(title, query), TITLE_CHARS),
        text=render(text, hit_spans(text, query), SNIPPET_CHARS),
    )


def marked_words(headline: str) -> set[str]:
    """The folded words ts_headline wrapped in START/STOP: what PostgreSQL calls hits.

    Only the words are used, never the headline itself: it is rendered again from the
    original text, so nothing ts_headline does to a text (it drops HTML-like tags
    from excerpts, for one) changes what the user sees.
    """
    words: set[str] = set()
    for chunk in headline.split(START)[1:]:
        marked = chunk.split(STOP, 1)[0]
        words.update(fold(w) for w in WORD.findall(unicodedata.normalize("NFC", marked)))
    return words


def highlight_words(title: str, text: str, words: set[str]) -> Highlight:
    """Like :func:`highlight`, marking the (folded) ``words`` given."""
    query = SearchQuery(tuple(Term((w,)) for w in sorted(words)))
    return highlight(title, text, query)
