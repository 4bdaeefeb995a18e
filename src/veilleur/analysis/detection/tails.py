"""Binomial upper tail, for "is this share of negative mentions unusually high?"."""

from __future__ import annotations

import math


def log_binomial_sf(k: int, n: int, p: float) -> float:
    """Natural log of P(X >= k) for X ~ Binomial(n, p); exact sum in log space.

    n is the number of mentions in a window (hundreds at most in practice, bounded
    by the caller), so the direct sum is cheap and has no approximation to explain.
    """
    if k <= 0:
        return 0.0
    if k > n:
        return -math.inf
    p = min(max(p, 1e-12), 1 - 1e-12)
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p
        + (n - i) * log_q
        for i in range(k, n + 1)
    ]
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))
