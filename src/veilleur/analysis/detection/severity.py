"""Severity 1 (most severe) to 4 from a signal's strength and reach.

Points for how improbable the observation is under the baseline, for how far above
it the observation is, and for how far the reach is above the watch's usual authors;
the more points, the more severe. Kept coarse on purpose: four levels that people
can tell apart, not a score that pretends to precision.
"""

from __future__ import annotations


def severity(confidence: float, ratio: float, reach_ratio: float = 1.0) -> int:
    """``confidence`` in [0, 1]; ``ratio`` = observed / expected; ``reach_ratio`` = the
    signal's reach over the watch's usual reach (1 when it does not apply)."""
    points = 0
    points += confidence >= 0.999
    points += confidence >= 0.999999
    points += ratio >= 3
    points += ratio >= 10
    points += reach_ratio >= 10
    points += reach_ratio >= 100
    if points >= 5:
        return 1
    if points >= 3:
        return 2
    if points == 2:
        return 3
    return 4
