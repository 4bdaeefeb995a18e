"""Slow-burn detection: a sustained, gradual rise of a watch's volume, causal and incremental.

The spike detector (``volume.py``) asks "is this 20-minute stretch far above what its
baseline expects?". A crisis that builds over hours (a handful of complaints, then a few
more every quarter of an hour) never answers yes: each bucket is only twice the usual,
and the baseline, which keeps learning, takes part of the rise in. This detector asks
the other question, "has the volume stayed clearly above its usual level for a while?",
with a **one-sided Poisson CUSUM** (Page 1954; Lucas 1985 for counts). Four parts, each
for a reason:

1. **Expected count** per bucket: the larger of two baselines. The spike detector's
   (level x hour-of-day x day-of-week, passed in by the caller) adapts within hours, so
   it partly absorbs a slow rise and, on a new watch, under-learns a strong daily cycle
   for days; the **seasonal median** here is the median, over the previous seven days
   (at least three), of the mentions in the same hour of the day (30 minutes either side
   of the bucket), per bucket. A median ignores a previous day's crisis and the weekend
   days, needs no learning rate, and is right from the third day after the first
   mention (empty buckets before it mean "no data yet", not "quiet"). Taking the larger of
   the two means a rise must beat both to count: the median fixes the cold start, the
   learned baseline fixes the median's zero on a quiet watch.
2. **Evidence** ``S``: each bucket adds the log-likelihood ratio of "the rate is ``ratio``
   (2) times the expected" against "it is as expected": ``x ln(ratio) - (ratio - 1) mu``.
   Under the baseline the steps drift down (by 0.31 mu per bucket), so ``S`` stays near
   0; at double the rate they drift up, and ``S`` grows with every bucket the rise holds.
   ``S`` never goes below 0 (Page's CUSUM: only the current excursion counts). The drift
   turns upward only above 1.44 times the expected count, so a baseline that is 20-40 %
   off does not accumulate anything.
3. **Sustained, not spiky**: a bucket's count is clipped at ``ratio x mu + 2 sqrt(ratio x
   mu) + 1`` before it adds to ``S``. One burst then adds at most a few units and only a
   rise that holds over many buckets reaches the threshold; spikes are the spike
   detector's job. The +1 keeps a quiet watch (mu = 0.05) able to count one mention per
   bucket.
4. **Overdispersion**: real counts vary more than Poisson allows, and over hours (a news
   day moves every bucket of the afternoon), which is what a CUSUM accumulates. Each
   step is divided by ``phi``, the mean of ``(O - E)^2 / E`` over hourly blocks of the
   clipped counts (half-life one week, starting from 1, the Poisson value, as if a day of
   such hours had been seen; never below 1). On a Poisson series ``phi`` stays near 1 and
   the test is the textbook one; on a series whose hours swing by half, a rise must be
   that much stronger. Every hour is learned, an alarm's too, as the spike detector's
   calibration does: a series that keeps rising and falling needs a stronger rise
   (leaving alarms out cost a third more signals on the noisy NAB files).

The detector **fires** when ``S`` reaches ``threshold`` (10: under the baseline an
excursion reaches it with probability below e^-10, Wald's bound, before the
overdispersion allowance), once per excursion: it re-arms when ``S`` is back at 0. ``S``
is capped at twice the threshold so that it comes back within hours once the rise ends.
The score explains itself: when the excursion began, the mentions observed and expected
since, their ratio, ``S`` and ``phi``.

The spike detector is untouched (its NAB figures stand); ``benchmarks/nab.py
--slow-rise`` counts this detector's signals on the same files, and docs/detection.md
gives the figures, the synthetic tests and the demo's latency.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from veilleur.analysis.detection.baseline import MIN_EXPECTED


@dataclass(frozen=True)
class SlowRiseConfig:
    """The slow-rise detector's parameters; times are durations, like ``VolumeConfig``."""

    bucket: timedelta = timedelta(minutes=5)
    ratio: float = 2.0  # the rise the CUSUM is tuned to: a doubling
    threshold: float = 10.0  # evidence (log-likelihood ratio, nats) at which it fires
    ceiling: float = 2.0  # the evidence is capped at ceiling x threshold
    clip_sigmas: float = 2.0  # a bucket counts at most ratio*mu + k*sqrt(ratio*mu) + 1
    history_days: int = 7  # days the seasonal median looks back
    min_days: int = 3  # days of history before it scores
    window: timedelta = timedelta(hours=1)  # the same hour, centred, on previous days
    dispersion_block: timedelta = timedelta(hours=1)
    dispersion_half_life: timedelta = timedelta(days=7)
    dispersion_prior: timedelta = timedelta(days=1)  # weight of the Poisson start (phi=1)

    def __post_init__(self) -> None:
        if self.bucket <= timedelta(0) or timedelta(days=1) % self.bucket:
            raise ValueError("the bucket must be a positive duration that divides a day")
        if self.ratio <= 1.0 or self.threshold <= 0 or self.ceiling < 1.0:
            raise ValueError("ratio > 1, threshold > 0 and ceiling >= 1")
        if not 1 <= self.min_days <= self.history_days:
            raise ValueError("1 <= min_days <= history_days")

    def buckets(self, duration: timedelta) -> int:
        """How many whole buckets a duration spans (at least one)."""
        return max(1, round(duration / self.bucket))


DEFAULT_SLOW_RISE = SlowRiseConfig()


@dataclass(frozen=True)
class SlowRiseScore:
    """One bucket's verdict and its explanation."""

    at: datetime
    observed: float
    expected: float  # the larger baseline, per bucket; 0 while warming up
    seasonal: float | None  # the seasonal median's expectation, per bucket
    evidence: float  # S after this bucket
    dispersion: float  # phi used for this bucket
    fired: bool  # S reached the threshold: a sustained rise begins
    warming_up: bool
    since: datetime | None  # the first bucket of the current excursion (S > 0)
    run_observed: float  # mentions since ``since``
    run_expected: float  # expected since ``since``
    bucket_minutes: float = 5.0
    threshold: float = 10.0  # the evidence at which the detector fires

    @property
    def ratio(self) -> float:
        """Observed over expected over the excursion."""
        return self.run_observed / max(self.run_expected, MIN_EXPECTED)

    @property
    def confidence(self) -> float:
        """1 - e^-S: Wald's bound on the chance that an excursion under the baseline
        reaches this evidence (before the overdispersion allowance)."""
        return 1.0 - math.exp(-self.evidence)

    def summary(self) -> str:
        """One line a person can read in ten seconds."""
        if self.warming_up:
            return f"{self.observed:g} observed; learning the baseline (no score yet)"
        if self.since is None:
            return f"{self.observed:g} observed vs {self.expected:.1f} expected; no rise"
        minutes = round((self.at - self.since).total_seconds() / 60 + self.bucket_minutes)
        return (
            f"{self.run_observed:g} observed vs {self.run_expected:.1f} expected over the "
            f"last {minutes} min ({self.ratio:.1f}x); evidence {self.evidence:.1f} "
            f"(fires at {self.threshold:g}); overdispersion {self.dispersion:.1f}"
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (timestamps in ISO 8601)."""
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data["since"] = None if self.since is None else self.since.isoformat()
        return data


class SlowRiseDetector:
    """Streaming slow-rise detector for one count series (see the module doc)."""

    def __init__(self, config: SlowRiseConfig = DEFAULT_SLOW_RISE) -> None:
        self.config = config
        self._per_day = config.buckets(timedelta(days=1))
        self._half = config.buckets(config.window) // 2
        self._width = 2 * self._half or 1
        self._keep = config.history_days * self._per_day + self._half
        self._block = config.buckets(config.dispersion_block)
        self._rate = 1.0 - math.pow(
            0.5, 1.0 / max(config.dispersion_half_life / config.dispersion_block, 1e-9))
        self.history: list[float] = []  # the last days' counts, oldest first
        self.last_at: datetime | None = None
        self.evidence = 0.0
        self.armed = True
        self.since: datetime | None = None
        self.run_observed = 0.0
        self.run_expected = 0.0
        self.dispersion = 1.0
        self.blocks = config.dispersion_prior / config.dispersion_block  # prior weight
        self.block_observed = 0.0
        self.block_expected = 0.0
        self.block_buckets = 0

    def update(self, at: datetime, count: float, expected: float | None) -> SlowRiseScore:
        """Score the bucket starting at ``at`` with ``count`` events, then learn from it.

        ``expected`` is the spike detector's expected count for this bucket
        (``VolumeScore.expected``), or None while it warms up: the bucket then only
        feeds the history. Buckets must come in time order; skipped ones count as zero
        (their expectation is the seasonal median's), up to the history's length.
        """
        if count < 0 or not math.isfinite(count):
            raise ValueError(f"a count must be a finite number >= 0, not {count!r}")
        if self.last_at is not None:
            steps = round((at - self.last_at) / self.config.bucket)
            if steps < 1:
                raise ValueError(f"bucket {at.isoformat()} is not after {self.last_at.isoformat()}")
            fill = min(steps - 1, self._keep)
            if fill < steps - 1:
                self._reset_excursion()
            for k in range(steps - 1 - fill, steps - 1):
                self._step(at - (steps - 1 - k) * self.config.bucket, 0.0, None, gap=True)
        return self._step(at, count, expected)

    def seasonal_expected(self) -> float | None:
        """The seasonal median's expected count for the next bucket, or None when the
        history holds fewer than ``min_days`` days around it."""
        n = len(self.history)
        sums = []
        for day in range(1, self.config.history_days + 1):
            centre = n - day * self._per_day
            low, high = centre - self._half, centre + max(self._half, 1)
            if low < 0 or high > n:
                continue
            sums.append(math.fsum(self.history[low:high]))
        if len(sums) < self.config.min_days:
            return None
        return statistics.median(sums) / self._width

    def _step(self, at: datetime, count: float, expected: float | None,
              gap: bool = False) -> SlowRiseScore:
        self.last_at = at
        if not self.history and count == 0:
            # The history starts with the first mention: the empty days before it (a
            # new watch replaying its last week, the demo's first hours) say that there
            # was no data yet, not that the watch was quiet.
            return self._score(at, count, 0.0, None, False, True)
        seasonal = self.seasonal_expected()
        self.history.append(count)
        if len(self.history) > self._keep:
            del self.history[: len(self.history) - self._keep]
        warming_up = seasonal is None or (expected is None and not gap)
        if warming_up:
            return self._score(at, count, 0.0, seasonal, False, True)
        mu = max(seasonal or 0.0, expected or 0.0, MIN_EXPECTED)
        ratio = self.config.ratio
        clipped = min(count, ratio * mu + self.config.clip_sigmas * math.sqrt(ratio * mu) + 1.0)
        step = (clipped * math.log(ratio) - (ratio - 1.0) * mu) / self.dispersion
        if self.evidence <= 0.0:
            self.since, self.run_observed, self.run_expected = at, 0.0, 0.0
        self.evidence = min(max(self.evidence + step, 0.0),
                            self.config.ceiling * self.config.threshold)
        self.run_observed += count
        self.run_expected += mu
        fired = self.armed and self.evidence >= self.config.threshold
        if fired:
            self.armed = False
        score = self._score(at, count, mu, seasonal, fired, False)
        if self.evidence <= 0.0:
            self._reset_excursion()
        self._learn_dispersion(clipped, mu)
        return score

    def _learn_dispersion(self, clipped: float, mu: float) -> None:
        self.block_observed += clipped
        self.block_expected += mu
        self.block_buckets += 1
        if self.block_buckets < self._block:
            return
        pearson = (self.block_observed - self.block_expected) ** 2 / self.block_expected
        self.blocks += 1.0
        rate = max(self._rate, 1.0 / self.blocks)
        self.dispersion = max(1.0, self.dispersion + rate * (pearson - self.dispersion))
        self.block_observed = self.block_expected = 0.0
        self.block_buckets = 0

    def _reset_excursion(self) -> None:
        self.evidence = 0.0
        self.armed = True
        self.since = None
        self.run_observed = self.run_expected = 0.0

    def _score(self, at: datetime, count: float, mu: float, seasonal: float | None,
               fired: bool, warming_up: bool) -> SlowRiseScore:
        return SlowRiseScore(
            at=at, observed=count, expected=mu, seasonal=seasonal, evidence=self.evidence,
            dispersion=self.dispersion, fired=fired, warming_up=warming_up,
            since=self.since if self.evidence > 0 else None,
            run_observed=self.run_observed if self.evidence > 0 else 0.0,
            run_expected=self.run_expected if self.evidence > 0 else 0.0,
            bucket_minutes=self.config.bucket.total_seconds() / 60,
            threshold=self.config.threshold,
        )

    def state(self) -> dict[str, Any]:
        """JSON-ready state, to persist between runs (the config is not included)."""
        return {
            "history": [int(x) if float(x).is_integer() else x for x in self.history],
            "last_at": None if self.last_at is None else self.last_at.isoformat(),
            "evidence": self.evidence,
            "armed": self.armed,
            "since": None if self.since is None else self.since.isoformat(),
            "run_observed": self.run_observed,
            "run_expected": self.run_expected,
            "dispersion": self.dispersion,
            "blocks": self.blocks,
            "block": [self.block_observed, self.block_expected, self.block_buckets],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any],
                   config: SlowRiseConfig = DEFAULT_SLOW_RISE) -> SlowRiseDetector:
        """A detector that continues exactly where the one that saved ``state`` stopped."""
        detector = cls(config)
        detector.history = [float(x) for x in state["history"]][-detector._keep:]
        last_at, since = state["last_at"], state["since"]
        detector.last_at = None if last_at is None else datetime.fromisoformat(last_at)
        detector.since = None if since is None else datetime.fromisoformat(since)
        detector.evidence = float(state["evidence"])
        detector.armed = bool(state["armed"])
        detector.run_observed = float(state["run_observed"])
        detector.run_expected = float(state["run_expected"])
        detector.dispersion = float(state["dispersion"])
        detector.blocks = float(state["blocks"])
        observed, expected, buckets = state["block"]
        detector.block_observed, detector.block_expected = float(observed), float(expected)
        detector.block_buckets = int(buckets)
        return detector
