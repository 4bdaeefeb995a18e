"""Detectors over time series of a watch; plain Python, time is always an argument.

The volume spike detector (``volume.py``) scores counts per bucket (mentions, stories,
distinct authors) against a seasonal baseline (``baseline.py``) with a Poisson tail
(``counts.py``); ``series.py`` reads NAB-format CSV. ``veilleur detect`` and
``benchmarks/nab.py`` run the same :class:`VolumeDetector`. The slow-rise detector
(``slow_rise.py``) catches what builds up over hours without a spike: a CUSUM of the
counts against the spike detector's expectation and a seasonal median. See
docs/detection.md.
"""

from veilleur.analysis.detection.baseline import SeasonalBaseline
from veilleur.analysis.detection.counts import log_poisson_sf
from veilleur.analysis.detection.series import Series, SeriesError, read_series
from veilleur.analysis.detection.slow_rise import (
    DEFAULT_SLOW_RISE,
    SlowRiseConfig,
    SlowRiseDetector,
    SlowRiseScore,
)
from veilleur.analysis.detection.volume import (
    ALERT_THRESHOLD,
    AUTHORS,
    DEFAULT_CONFIG,
    MENTIONS,
    SERIES,
    STORIES,
    VolumeConfig,
    VolumeDetector,
    VolumeScore,
    WatchVolume,
    score_series,
)

__all__ = [
    "ALERT_THRESHOLD", "AUTHORS", "DEFAULT_CONFIG", "DEFAULT_SLOW_RISE", "MENTIONS", "SERIES",
    "STORIES", "SeasonalBaseline", "Series", "SeriesError", "SlowRiseConfig",
    "SlowRiseDetector", "SlowRiseScore", "VolumeConfig", "VolumeDetector", "VolumeScore",
    "WatchVolume", "log_poisson_sf", "read_series", "score_series",
]
