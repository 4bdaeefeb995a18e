"""The Poisson upper tail, in log space, with the standard library only.

Volume per bucket is a count, often tiny (0-3 mentions per 5 minutes). A z-score on raw
counts would say that 2 mentions where 0.2 are expected is as rare as 130 where 100 are
expected; the count model says the first is the rarer. The detector asks "how likely is
at least this many, if the baseline is right?" and works with logarithms because a real
spike has a probability far below the smallest float (a thousand mentions where ten are
expected is about 10^-1500).
"""

from __future__ import annotations

import math

_EPS = 1e-15
_TINY = 1e-300
_MAX_TERMS = 100_000


def log_poisson_sf(k: float, mu: float) -> float:
    """Natural log of P(X >= k) for X ~ Poisson(mu); 0.0 (certainty) when k <= 0.

    P(X >= k) is the regularised lower incomplete gamma function P(k, mu): a series
    when mu < k + 1, a continued fraction for the complement otherwise (the classic
    split, each side converging in about sqrt(mu) terms).
    """
    if k <= 0:
        return 0.0
    if mu <= 0:
        return -math.inf
    log_prefix = k * math.log(mu) - mu - math.lgamma(k)
    if mu < k + 1.0:
        term = total = 1.0 / k
        denominator = k
        for _ in range(_MAX_TERMS):
            denominator += 1.0
            term *= mu / denominator
            total += term
            if term < total * _EPS:
                break
        return log_prefix + math.log(total)
    complement = math.exp(log_prefix) * _upper_gamma_fraction(k, mu)
    return math.log1p(-complement) if complement < 1.0 else -math.inf


def _upper_gamma_fraction(a: float, x: float) -> float:
    """Continued fraction of Q(a, x) without its prefix (modified Lentz)."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h
