"""Content detectors: negative shift, high-reach negative mention, crisis vocabulary,
emerging story. Each compares a window of mentions with the watch's baseline period.

Every function is pure: mentions and times in, ``Finding`` or None out. A finding's
``confidence`` is 1 - the tail probability of what was observed under the baseline,
so detectors of different kinds speak the same language; thresholds are probabilities
(``ALPHA``), plus a minimum count so that two mentions never make a crisis.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from veilleur.analysis.detection.counts import log_poisson_sf
from veilleur.analysis.detection.mentions import MentionRecord
from veilleur.analysis.detection.tails import log_binomial_sf
from veilleur.analysis.text import fold, words

ALPHA = 1e-3  # fire when what we see has less than a 1-in-1000 chance under the baseline
MIN_NEGATIVE = 5
MIN_SHARE_JUMP = 0.10  # and the negative share is at least 10 points above usual
MIN_REACH = 10_000
REACH_FACTOR = 10.0
MIN_VOCABULARY = 3
MIN_STORY = 5
MAX_WINDOW = 5000  # mentions considered in a window: bounds the exact binomial sum

# A starting lexicon; a workspace can pass its own. Folded (no accents, lower case).
CRISIS_TERMS = (
    "boycott", "scandale", "scandal", "arnaque", "scam", "escroquerie", "fraude", "fraud",
    "lawsuit", "proces", "plainte", "class action", "action collective", "rappel produit",
    "product recall", "recall", "intoxication", "food poisoning", "empoisonnement",
    "fuite de donnees", "data breach", "piratage", "hacked", "greve", "strike",
    "licenciement", "layoffs", "accident", "deces", "death", "dangereux", "dangerous",
    "honte", "shame", "mensonge", "lies", "enquete", "investigation", "amende", "fine",
    "boycottez", "#boycott",
)


@dataclass(frozen=True)
class Finding:
    kind: str
    observed: float
    expected: float
    confidence: float
    reach_ratio: float = 1.0
    evidence: tuple[int, ...] = ()  # mention ids that carry the signal
    details: dict[str, object] = field(default_factory=dict)


def _confidence(log_tail: float) -> float:
    return 1.0 - math.exp(log_tail) if log_tail > -700 else 1.0


def negative_shift(window: Sequence[MentionRecord], baseline: Sequence[MentionRecord],
                   alpha: float = ALPHA) -> Finding | None:
    """The share of negative mentions jumps above the baseline's (binomial test).

    A stable high volume that turns sour fires here even though the volume detector
    sees nothing. The baseline share is smoothed (one negative and one other mention
    added) so that a watch with no history does not fire on its first complaints.
    """
    scored = [m for m in window[:MAX_WINDOW] if m.sentiment]
    negatives = [m for m in scored if m.sentiment == "negative"]
    base_scored = [m for m in baseline if m.sentiment]
    base_negative = sum(1 for m in base_scored if m.sentiment == "negative")
    p0 = (base_negative + 1) / (len(base_scored) + 2)
    n, k = len(scored), len(negatives)
    if k < MIN_NEGATIVE or k / n < p0 + MIN_SHARE_JUMP:
        return None
    log_tail = log_binomial_sf(k, n, p0)
    if log_tail > math.log(alpha):
        return None
    return Finding(kind="negative_shift", observed=k / n, expected=p0,
                   confidence=_confidence(log_tail),
                   evidence=tuple(m.id for m in _by_reach(negatives)[:20]),
                   details={"negative": k, "scored": n})


def high_reach_negative(window: Sequence[MentionRecord], baseline: Sequence[MentionRecord],
                        factor: float = REACH_FACTOR) -> Finding | None:
    """A negative mention by an author far above the watch's usual authors' reach.

    "Usual" is the 90th percentile of the baseline's reach, so a watch followed by
    big media already needs a bigger voice to fire.
    """
    reaches = sorted(m.reach for m in baseline if m.reach)
    usual = reaches[int(0.9 * (len(reaches) - 1))] if reaches else 0
    floor = max(MIN_REACH, factor * usual)
    loud = [m for m in window if m.sentiment == "negative" and m.reach >= floor]
    if not loud:
        return None
    top = _by_reach(loud)[0]
    ratio = top.reach / max(usual, 1)
    return Finding(kind="high_reach", observed=float(top.reach), expected=float(usual),
                   confidence=min(1.0, 1 - 1 / max(ratio, 1.0)), reach_ratio=ratio,
                   evidence=tuple(m.id for m in _by_reach(loud)[:10]),
                   details={"author": top.author, "verified": top.verified})


def _has_term(text: str, terms: Sequence[str]) -> bool:
    folded = " " + " ".join(words(text)) + " "
    return any(f" {term} " in folded for term in terms)


def crisis_vocabulary(window: Sequence[MentionRecord], baseline: Sequence[MentionRecord],
                      baseline_windows: float, terms: Sequence[str] = CRISIS_TERMS,
                      alpha: float = ALPHA) -> Finding | None:
    """Crisis words (boycott, arnaque, lawsuit, rappel produit...) at an unusual rate.

    ``baseline_windows`` is how many windows the baseline spans: the expected count is
    the baseline's count per window, plus a small prior so a first mention of
    "boycott" is not enough.
    """
    folded_terms = [" ".join(words(fold(term))) for term in terms]
    hits = [m for m in window if _has_term(m.text, folded_terms)]
    base_hits = sum(1 for m in baseline if _has_term(m.text, folded_terms))
    expected = (base_hits + 0.5) / max(baseline_windows, 1.0)
    if len(hits) < MIN_VOCABULARY:
        return None
    log_tail = log_poisson_sf(len(hits), expected)
    if log_tail > math.log(alpha):
        return None
    found = Counter(term for m in hits for term in folded_terms
                    if f" {term} " in " " + " ".join(words(m.text)) + " ")
    return Finding(kind="vocabulary", observed=float(len(hits)), expected=expected,
                   confidence=_confidence(log_tail),
                   evidence=tuple(m.id for m in _by_reach(hits)[:20]),
                   details={"terms": [term for term, _ in found.most_common(5)]})


def emerging_story(window: Sequence[MentionRecord], baseline: Sequence[MentionRecord],
                   baseline_windows: float, alpha: float = ALPHA) -> Finding | None:
    """One story growing faster than stories usually do on this watch.

    Expected growth is the baseline's busiest stories' pace (the 95th percentile of
    mentions per story, spread over the baseline's windows, at least one).
    """
    counts = Counter(m.story_id for m in window if m.story_id is not None)
    if not counts:
        return None
    story, count = counts.most_common(1)[0]
    per_story = sorted(Counter(m.story_id for m in baseline if m.story_id is not None).values())
    busy = per_story[int(0.95 * (len(per_story) - 1))] if per_story else 0
    expected = max(1.0, busy / max(baseline_windows, 1.0))
    if count < MIN_STORY:
        return None
    log_tail = log_poisson_sf(count, expected)
    if log_tail > math.log(alpha):
        return None
    members = [m for m in window if m.story_id == story]
    return Finding(kind="emerging_story", observed=float(count), expected=expected,
                   confidence=_confidence(log_tail),
                   evidence=tuple(m.id for m in _by_reach(members)[:20]),
                   details={"story_id": story})


def _by_reach(mentions: Sequence[MentionRecord]) -> list[MentionRecord]:
    return sorted(mentions, key=lambda m: (-m.reach, m.id))
