"""Why a signal fired, readable in ten seconds: what is new, who, where, how it feels.

``explain`` builds the explanation stored on every signal and shown in alerts and on
the incident page: the terms and hashtags that are new in the window (much more
frequent than in the baseline), the top sources and authors, the sentiment split and
a few representative mentions (the evidence, loudest first).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from veilleur.analysis.detection.mentions import MentionRecord
from veilleur.analysis.text import words

MAX_EXAMPLE_CHARS = 280
# Words that are frequent everywhere and say nothing about an event.
_STOPWORDS_TEXT = (
    "the and for you your with this that are was have has not but all they them our out "
    "just from what when will can get got its it's who how why about more one too very "
    "les des une est pas que qui pour dans sur avec mais plus par vous nous sont ont "
    "cest ete tout tous elle ils leur aux ses mes tes son sans comme bien fait faire "
    "http https www com amp rt via"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split(" "))


def _terms(mention: MentionRecord) -> set[str]:
    return {w for w in words(mention.text)
            if len(w) >= 3 and w not in STOPWORDS and not w.startswith("@")
            and not w.isdigit()}


def new_terms(window: Sequence[MentionRecord], baseline: Sequence[MentionRecord],
              limit: int = 8) -> tuple[list[str], list[str]]:
    """(terms, hashtags) much more frequent in the window than in the baseline.

    Document frequencies with add-one smoothing; a term needs two mentions in the window
    and twice its baseline rate, then ranks by count x log(ratio).
    """
    in_window = Counter(t for m in window for t in _terms(m))
    in_baseline = Counter(t for m in baseline for t in _terms(m))
    n_window, n_baseline = max(len(window), 1), max(len(baseline), 1)
    scored = []
    for term, count in in_window.items():
        if count < 2:
            continue
        ratio = ((count + 1) / (n_window + 2)) / ((in_baseline[term] + 1) / (n_baseline + 2))
        if ratio >= 2:
            scored.append((count * math.log(ratio), term))
    scored.sort(reverse=True)
    ranked = [term for _, term in scored]
    return ([t for t in ranked if not t.startswith("#")][:limit],
            [t for t in ranked if t.startswith("#")][:limit])


def explain(window: Sequence[MentionRecord], baseline: Sequence[MentionRecord],
            evidence: Sequence[int] = (), limit: int = 3) -> dict[str, Any]:
    """The explanation of a signal over ``window`` (JSON-ready)."""
    terms, hashtags = new_terms(window, baseline)
    by_id = {m.id: m for m in window}
    chosen = [by_id[i] for i in evidence if i in by_id][:limit]
    if not chosen:
        chosen = sorted(window, key=lambda m: (-m.reach, m.id))[:limit]
    authors = Counter(m.author for m in window if m.author)
    sources = Counter(m.source for m in window if m.source)
    reach = {m.author: m.reach for m in window if m.author}
    return {
        "mentions": len(window),
        "top_terms": terms,
        "hashtags": hashtags,
        "sources": [{"name": name, "count": n}
                    for name, n in sources.most_common(limit)],
        "authors": [{"name": name, "count": n, "reach": reach.get(name, 0)}
                    for name, n in authors.most_common(limit)],
        "sentiment": dict(Counter(m.sentiment or "unscored" for m in window)),
        "examples": [{"id": m.id, "text": m.text[:MAX_EXAMPLE_CHARS], "author": m.author,
                      "url": m.url, "reach": m.reach, "sentiment": m.sentiment}
                     for m in chosen],
    }
