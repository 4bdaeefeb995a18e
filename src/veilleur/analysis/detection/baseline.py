"""The expected count of a bucket: a level times an hour-of-day and a day-of-week factor.

``expected = level x hour[h] x weekday[d]``. Mention volume follows the clock (quiet
nights, busy lunchtimes) and the calendar (weekends), and the level drifts as a brand
gains or loses attention; a multiplicative model keeps those three apart and each is
learned by an exponentially weighted average, so the state is 32 numbers.

What feeds the averages is **winsorised** first: a count outside ``expected +- k
sqrt(expected)`` (k Poisson standard deviations) is clipped to that edge. A spike then
moves the baseline by at most a few standard deviations per bucket, so a burst does not
raise what the next hours are compared with, and a drop to zero (a source outage) does
not lower it; a lasting change of level still gets through, a few deviations at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

HOURS = 24
WEEKDAYS = 7
# Below this the Poisson model would call any single mention a certainty-breaking event.
MIN_EXPECTED = 0.01


@dataclass(frozen=True)
class BaselineRates:
    """Per-bucket learning rates (the weight of the newest bucket in each average)."""

    level: float
    hour: float
    weekday: float
    winsor_sigmas: float


@dataclass
class SeasonalBaseline:
    """Level, 24 hour-of-day factors and 7 day-of-week factors (each set averaging 1)."""

    level: float | None = None
    hour: list[float] = field(default_factory=lambda: [1.0] * HOURS)
    weekday: list[float] = field(default_factory=lambda: [1.0] * WEEKDAYS)

    def expected(self, at: datetime) -> float:
        """Expected count of the bucket starting at ``at`` (its own clock and calendar)."""
        if self.level is None:
            return MIN_EXPECTED
        return max(self.level * self.hour[at.hour] * self.weekday[at.weekday()], MIN_EXPECTED)

    def learn(self, at: datetime, count: float, rates: BaselineRates) -> None:
        """Fold one bucket in; ``expected(at)`` must be read before, not after."""
        if self.level is None:
            self.level = max(count, 0.5)
            return
        h, d = at.hour, at.weekday()
        expected = self.expected(at)
        spread = rates.winsor_sigmas * math.sqrt(expected)
        clipped = min(max(count, expected - spread), expected + spread)
        self.level += rates.level * (clipped / (self.hour[h] * self.weekday[d]) - self.level)
        self.level = max(self.level, MIN_EXPECTED)
        self.hour[h] += rates.hour * (clipped / (self.level * self.weekday[d]) - self.hour[h])
        _renormalise(self.hour)
        self.weekday[d] += rates.weekday * (clipped / (self.level * self.hour[h]) - self.weekday[d])
        _renormalise(self.weekday)

    def state(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {"level": self.level, "hour": list(self.hour), "weekday": list(self.weekday)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SeasonalBaseline:
        """Inverse of :meth:`state`."""
        hour = [float(x) for x in state["hour"]]
        weekday = [float(x) for x in state["weekday"]]
        if len(hour) != HOURS or len(weekday) != WEEKDAYS:
            raise ValueError("a baseline state needs 24 hour and 7 weekday factors")
        level = state["level"]
        return cls(None if level is None else float(level), hour, weekday)


def _renormalise(factors: list[float]) -> None:
    # Factors average 1 so that the level alone carries the volume; a factor may not
    # reach zero, or a quiet hour could never be learned back.
    mean = sum(factors) / len(factors)
    for i, value in enumerate(factors):
        factors[i] = max(value / mean, 1e-3)
