"""Volume spike detection on counts per bucket, causal and incremental.

One :class:`VolumeDetector` follows one count series (mentions of a watch, its stories,
its distinct authors) and is updated one bucket at a time; :meth:`VolumeDetector.update`
uses that bucket and the past only, and returns a :class:`VolumeScore`: a score in
[0, 1] and the explanation behind it. Four steps, each for a reason:

1. **Expected count** from :class:`~.baseline.SeasonalBaseline`: level x hour of day x
   day of week, learned from winsorised counts so a spike hardly moves it.
2. **Surprise** of the bucket under a Poisson model of that expectation:
   ``-log10 P(X >= observed)``. A count model, not a z-score, because most watches see
   0-3 mentions per bucket, where "2 instead of 0.2" is rarer than "130 instead of 100".
   Only excess volume is surprising: fewer mentions than expected scores 0.
3. **Evidence** over the last ``evidence_window`` (20 minutes): the mean surprise of its
   buckets, i.e. Fisher's combination of their probabilities. One odd bucket counts
   for a quarter, a rise that holds counts fully, and the latency stays in minutes.
4. **Calibration**: the evidence divided by the root-mean-square surprise of the recent
   past (half-life one week). Real counts vary more than Poisson allows (retweet
   cascades, bots, news cycles), and by how much differs from one series to the next;
   rather than model each cause, the detector judges a surprise against this series' own
   recent surprises, as Numenta's *anomaly likelihood* does (Ahmad et al. 2017). A
   series that keeps bursting (a bot posting every few hours) needs a bigger burst to
   alarm; a calm one raises a moderate rise. It starts from the value a well-calibrated
   model would give (p-values uniform: E[s^2] = 2 / ln(10)^2), so a new watch can alert
   on its second day and learns its own noise within a week.

The calibrated strength ``z`` becomes the score only when it **starts or escalates an
episode**: when it beats, by ``escalation`` (10 %), the largest strength of the recent
past (decaying with a half-life of one day). The following buckets of the same burst
score 0 unless it grows: one alert per event, not one per bucket, which is what an
incident wants. The explanation of every bucket still carries the observed and expected
counts, the probability and the strength. Finally ``score = z / (z + score_scale)``: 0.5
means "ten times the usual surprise", the default alert threshold.

The parameters were set once for every series; ``docs/detection.md`` gives their
meaning, what was varied and the NAB figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from veilleur.analysis.detection.baseline import BaselineRates, SeasonalBaseline
from veilleur.analysis.detection.counts import log_poisson_sf

_LN10 = math.log(10.0)
# E[(-log10 p)^2] for a uniform p: where calibration starts before the series speaks.
CALIBRATED_MEAN_SQUARE = 2.0 / _LN10**2
# The default alert threshold on the score: ten times the usual surprise.
ALERT_THRESHOLD = 0.5
# A gap longer than this is not replayed bucket by bucket: every average has forgotten.
MAX_FILL = timedelta(weeks=4)


@dataclass(frozen=True)
class VolumeConfig:
    """The detector's parameters; times are durations, so any bucket size works."""

    bucket: timedelta = timedelta(minutes=5)
    warm_up: timedelta = timedelta(days=1)  # no score before the baseline saw a day
    level_half_life: timedelta = timedelta(days=1)
    hour_half_life_days: float = 2.0  # memory of each hour-of-day factor, in days
    weekday_half_life_weeks: float = 1.0  # memory of each day-of-week factor, in weeks
    winsor_sigmas: float = 3.0
    evidence_window: timedelta = timedelta(minutes=20)  # at least one bucket
    calibration_half_life: timedelta = timedelta(days=7)
    episode_half_life: timedelta = timedelta(days=1)
    escalation: float = 1.1
    score_scale: float = 10.0

    def __post_init__(self) -> None:
        if self.bucket <= timedelta(0):
            raise ValueError("the bucket must be a positive duration")
        if self.evidence_window <= timedelta(0):
            raise ValueError("the evidence window must be a positive duration")
        if self.escalation < 1.0 or self.score_scale <= 0 or self.winsor_sigmas <= 0:
            raise ValueError("escalation >= 1, score_scale > 0 and winsor_sigmas > 0")

    def buckets(self, duration: timedelta) -> float:
        """How many buckets a duration spans."""
        return duration / self.bucket

    def rates(self) -> BaselineRates:
        """The baseline's per-bucket learning rates."""
        per_hour = self.buckets(timedelta(hours=1))
        per_day = self.buckets(timedelta(days=1))
        return BaselineRates(
            level=_rate(self.buckets(self.level_half_life)),
            hour=_rate(self.hour_half_life_days * per_hour),  # a slot is seen per_hour a day
            weekday=_rate(self.weekday_half_life_weeks * per_day),  # per_day times a week
            winsor_sigmas=self.winsor_sigmas,
        )


DEFAULT_CONFIG = VolumeConfig()


@dataclass(frozen=True)
class VolumeScore:
    """One bucket's verdict and its explanation."""

    at: datetime
    observed: float
    expected: float  # from the baseline below, before this bucket was learned
    log10_probability: float  # log10 P(X >= observed | expected), Poisson
    evidence: float  # mean surprise (-log10 p) over the evidence window
    usual_surprise: float  # root-mean-square surprise of the recent past
    strength: float  # evidence / usual_surprise
    starts_or_escalates: bool  # strength beat the episode's decayed peak
    score: float  # in [0, 1]; 0 unless starts_or_escalates
    warming_up: bool
    baseline: dict[str, float] = field(default_factory=dict)  # level, hour, weekday factors

    @property
    def probability(self) -> float:
        """P(at least ``observed`` | ``expected``); may underflow to 0.0 for big spikes."""
        return math.pow(10.0, self.log10_probability)

    def summary(self) -> str:
        """One line a person can read in ten seconds."""
        if self.warming_up:
            return f"{self.observed:g} observed; learning the baseline (no score yet)"
        ratio = self.observed / self.expected
        return (
            f"{self.observed:g} observed vs {self.expected:.1f} expected ({ratio:.1f}x); "
            f"P(at least this many) = 1e{self.log10_probability:.1f}; "
            f"{self.strength:.1f}x the usual surprise; score {self.score:.2f}"
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the timestamp in ISO 8601)."""
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


class VolumeDetector:
    """Streaming volume spike detector for one count series (see the module doc)."""

    def __init__(self, config: VolumeConfig = DEFAULT_CONFIG) -> None:
        self.config = config
        self._rates = config.rates()
        self._window = max(1, round(config.buckets(config.evidence_window)))
        self._warm_up = math.ceil(config.buckets(config.warm_up))
        self._calibration_rate = _rate(config.buckets(config.calibration_half_life))
        self._episode_decay = 1.0 - _rate(config.buckets(config.episode_half_life))
        self.baseline = SeasonalBaseline()
        self.seen = 0  # buckets folded in, gaps included
        self.last_at: datetime | None = None
        self.recent: list[float] = []  # surprises of the last evidence-window buckets
        self.mean_square = CALIBRATED_MEAN_SQUARE
        self.peak = 0.0  # decayed largest strength: the current episode's level

    def update(self, at: datetime, count: float) -> VolumeScore:
        """Score the bucket starting at ``at`` with ``count`` events, then learn from it.

        Buckets must come in time order. Buckets skipped since the previous call count as
        zero events (a bucket with no mention is usually not stored), up to four weeks.
        """
        if count < 0 or not math.isfinite(count):
            raise ValueError(f"a count must be a finite number >= 0, not {count!r}")
        if self.last_at is not None:
            steps = round((at - self.last_at) / self.config.bucket)
            if steps < 1:
                raise ValueError(f"bucket {at.isoformat()} is not after {self.last_at.isoformat()}")
            fill = min(steps - 1, math.ceil(self.config.buckets(MAX_FILL)))
            for k in range(steps - 1 - fill, steps - 1):
                self._step(at - (steps - 1 - k) * self.config.bucket, 0.0)
        return self._step(at, count)

    def _step(self, at: datetime, count: float) -> VolumeScore:
        expected = self.baseline.expected(at)
        baseline = self._baseline_used(at)
        warming_up = self.seen < self._warm_up
        first = self.baseline.level is None
        log10_p = 0.0 if warming_up or first else log_poisson_sf(count, expected) / _LN10
        surprise = -log10_p
        self.baseline.learn(at, count, self._rates)
        self.recent = [*self.recent, surprise][-self._window:]
        evidence = sum(self.recent) / len(self.recent)
        usual = math.sqrt(self.mean_square)
        strength = 0.0 if warming_up else evidence / usual
        escalates = strength > 0.0 and strength > self.config.escalation * self.peak
        if not warming_up:
            self.mean_square += self._calibration_rate * (surprise * surprise - self.mean_square)
            self.peak = max(self.peak * self._episode_decay, strength)
        self.seen += 1
        self.last_at = at
        score = strength / (strength + self.config.score_scale) if escalates else 0.0
        return VolumeScore(
            at=at, observed=count, expected=expected, log10_probability=log10_p,
            evidence=evidence, usual_surprise=usual, strength=strength,
            starts_or_escalates=escalates, score=score, warming_up=warming_up,
            baseline=baseline,
        )

    def _baseline_used(self, at: datetime) -> dict[str, float]:
        level = self.baseline.level
        return {
            "level": 0.0 if level is None else level,
            "hour_factor": self.baseline.hour[at.hour],
            "weekday_factor": self.baseline.weekday[at.weekday()],
        }

    def state(self) -> dict[str, Any]:
        """JSON-ready state, to persist between runs (the config is not included)."""
        return {
            "baseline": self.baseline.state(),
            "seen": self.seen,
            "last_at": None if self.last_at is None else self.last_at.isoformat(),
            "recent": list(self.recent),
            "mean_square": self.mean_square,
            "peak": self.peak,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any],
                   config: VolumeConfig = DEFAULT_CONFIG) -> VolumeDetector:
        """A detector that continues exactly where the one that saved ``state`` stopped."""
        detector = cls(config)
        detector.baseline = SeasonalBaseline.from_state(state["baseline"])
        detector.seen = int(state["seen"])
        last_at = state["last_at"]
        detector.last_at = None if last_at is None else datetime.fromisoformat(last_at)
        detector.recent = [float(x) for x in state["recent"]][-detector._window:]
        detector.mean_square = float(state["mean_square"])
        detector.peak = float(state["peak"])
        return detector


def score_series(timestamps: Sequence[datetime], counts: Sequence[float],
                 config: VolumeConfig = DEFAULT_CONFIG) -> list[VolumeScore]:
    """Score a whole series causally: the same detector fed one bucket at a time."""
    if len(timestamps) != len(counts):
        raise ValueError("timestamps and counts differ in length")
    detector = VolumeDetector(config)
    return [detector.update(at, count) for at, count in zip(timestamps, counts, strict=True)]


# The count series a watch is followed on; the detector is the same for each.
MENTIONS, STORIES, AUTHORS = "mentions", "stories", "authors"
SERIES = (MENTIONS, STORIES, AUTHORS)


class WatchVolume:
    """One detector per count series of a watch: mentions, stories, distinct authors.

    Stories (near-duplicates grouped) and distinct authors tell a copy-paste campaign or
    one account posting in a loop from many people talking: a spike in mentions alone is
    weaker news than one in authors too. Each series is judged against its own history.
    """

    def __init__(self, series: Iterable[str] = SERIES,
                 config: VolumeConfig = DEFAULT_CONFIG) -> None:
        self.detectors = {name: VolumeDetector(config) for name in series}

    def update(self, at: datetime, counts: Mapping[str, float]) -> dict[str, VolumeScore]:
        """Score one bucket of every series; a series missing from ``counts`` counts 0."""
        unknown = set(counts) - set(self.detectors)
        if unknown:
            raise ValueError(f"unknown series: {', '.join(sorted(unknown))}")
        return {name: detector.update(at, counts.get(name, 0))
                for name, detector in self.detectors.items()}

    def state(self) -> dict[str, Any]:
        """JSON-ready state of every series."""
        return {name: detector.state() for name, detector in self.detectors.items()}

    @classmethod
    def from_state(cls, state: Mapping[str, Any],
                   config: VolumeConfig = DEFAULT_CONFIG) -> WatchVolume:
        """Inverse of :meth:`state`."""
        watch = cls((), config)
        watch.detectors = {name: VolumeDetector.from_state(value, config)
                           for name, value in state.items()}
        return watch


def _rate(buckets_per_half_life: float) -> float:
    """EWMA weight of the newest value for a half-life given in buckets."""
    return 1.0 - math.pow(0.5, 1.0 / max(buckets_per_half_life, 1e-9))
