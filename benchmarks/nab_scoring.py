"""The Numenta Anomaly Benchmark's scoring rules, written from ``../shared/data/README.md``.

A labelled file is a series of anomaly scores (one per row) and its anomaly windows as
inclusive row ranges. A row is a *detection* when its score is >= a threshold shared by
all files. With the standard profile (A_TP = 1, A_FP = -0.11, A_FN = -1):

- the first ``min(floor(15 % of rows), 750)`` rows are probation and are ignored;
- inside a window only the earliest detection counts and earns ``A_TP * sigma(pos)``,
  ``pos = -(right - i + 1) / width`` (from -1 at the left edge to about 0 at the right),
  ``sigma(x) = 2 / (1 + e^(5x)) - 1``; a window with no detection costs ``A_FN``;
- each detection outside every window costs ``0.11 * |sigma(d)|``: full cost before the
  first window, and after a window ``d = (i - right) / (width - 1)`` (so a false alarm
  just after a window costs little), ``sigma`` taken as -1 beyond ``d = 3``;
- the raw score summed over files is normalised as ``100 (raw - null) / (perfect -
  null)``, ``perfect`` = the number of windows (times A_TP), ``null`` = the score of a
  detector that never fires (A_FN per window).

NAB's current code (``sweeper.py``) also divides the true-positive credit by
``sigma(-1)`` (0.9866) so that a detection on a window's first row earns exactly 1; the
README does not, so that is an option (``Profile.tp_relative_to_edge``), off by default.

The threshold is optimised the way NAB does: every distinct score is a candidate, the
raw score is summed over the files for each, the best wins and ties go to the highest
threshold (the first one met sweeping down). ``leave_one_out`` picks the threshold on
all files but one and scores that one with it, the honest figure for a product that
must ship one threshold before seeing the data.

Plain Python and numpy, no Django: the tests import it as ``benchmarks.nab_scoring``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Sentinel threshold above every score in [0, 1]: the detector never fires.
NEVER = 1.1


@dataclass(frozen=True)
class Profile:
    """NAB application profile: the weights of a true positive, false positive, miss."""

    tp: float = 1.0
    fp: float = -0.11
    fn: float = -1.0
    tp_relative_to_edge: bool = False  # NAB code's division by sigma(-1), see module doc


STANDARD = Profile()


@dataclass(frozen=True)
class LabelledFile:
    """One file's anomaly scores and its windows as inclusive (left, right) row indices."""

    name: str
    scores: Sequence[float]
    windows: Sequence[tuple[int, int]]

    def __post_init__(self) -> None:
        previous_right = -1
        for left, right in self.windows:
            if not previous_right < left <= right < len(self.scores):
                raise ValueError(f"{self.name}: windows must be sorted, disjoint, in range")
            previous_right = right


@dataclass
class FileResult:
    """One file scored at one threshold."""

    name: str
    threshold: float
    raw: float
    null: float
    perfect: float
    detected: int  # windows with a detection
    windows: int
    false_positives: int  # detections outside every window, after probation
    first_detections: list[int] = field(default_factory=list)  # row, or -1 when missed


def sigma(x: float) -> float:
    """NAB's scaled sigmoid: 1 far left, 0 at x = 0, -1 beyond x = 3."""
    if x > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def probation_length(rows: int) -> int:
    """Rows ignored at the start of a file: min(floor(15 %), 750)."""
    return min(math.floor(0.15 * rows), 750)


def row_weights(rows: int, windows: Sequence[tuple[int, int]],
                profile: Profile = STANDARD) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """What a detection on each row would earn (window rows) or cost (other rows).

    Returns ``(weight, window)``: ``window[i]`` is the index of the window holding row
    ``i`` or -1; probation rows get weight 0 and window -2 (they never count).
    """
    weight = np.zeros(rows)
    window = np.full(rows, -1, dtype=np.int64)
    edge = sigma(-1.0) if profile.tp_relative_to_edge else 1.0
    previous: tuple[int, int] | None = None
    cursor = 0
    for number, (left, right) in enumerate([*windows, (rows, rows)]):
        for i in range(cursor, min(left, rows)):  # rows between windows: false positives
            if previous is None:
                weight[i] = profile.fp  # before the first window: full cost
            else:
                width = previous[1] - previous[0] + 1
                d = (i - previous[1]) / max(width - 1, 1)
                weight[i] = profile.fp * abs(sigma(d))
        if left >= rows:
            break
        width = right - left + 1
        for i in range(left, right + 1):
            weight[i] = profile.tp * sigma(-(right - i + 1) / width) / edge
            window[i] = number
        previous = (left, right)
        cursor = right + 1
    probation = probation_length(rows)
    weight[:probation] = 0.0
    window[:probation] = -2
    return weight, window


def counted_windows(file: LabelledFile) -> int:
    """Windows with at least one row after probation (NAB ignores the others)."""
    probation = probation_length(len(file.scores))
    return sum(1 for _, right in file.windows if right >= probation)


def null_score(file: LabelledFile, profile: Profile = STANDARD) -> float:
    """Raw score of a detector that never fires."""
    return profile.fn * counted_windows(file)


def perfect_score(file: LabelledFile, profile: Profile = STANDARD) -> float:
    """NAB's perfect score: A_TP per window."""
    return profile.tp * counted_windows(file)


def score_file(file: LabelledFile, threshold: float, profile: Profile = STANDARD) -> FileResult:
    """Score one file: detections are rows with score >= threshold."""
    scores = np.asarray(file.scores, dtype=np.float64)
    weight, window = row_weights(len(scores), file.windows, profile)
    fired = scores >= threshold
    outside = fired & (window == -1)
    raw = float(weight[outside].sum())
    first: list[int] = []
    for number, (_, right) in enumerate(file.windows):
        if right < probation_length(len(scores)):
            continue
        rows = np.flatnonzero(fired & (window == number))
        first.append(int(rows[0]) if rows.size else -1)
        raw += float(weight[rows[0]]) if rows.size else profile.fn
    return FileResult(
        name=file.name, threshold=threshold, raw=raw, null=null_score(file, profile),
        perfect=perfect_score(file, profile), detected=sum(1 for r in first if r >= 0),
        windows=len(first), false_positives=int(outside.sum()), first_detections=first,
    )


def raw_by_threshold(file: LabelledFile, thresholds: FloatArray,
                     profile: Profile = STANDARD) -> FloatArray:
    """The file's raw score at each candidate threshold, vectorised.

    False positives: the cumulative cost of outside rows sorted by score, read at the
    count of rows >= t. Windows: sweeping down, the earliest detection's credit is the
    running maximum of the credits met so far (credit grows towards the left edge).
    """
    scores = np.asarray(file.scores, dtype=np.float64)
    weight, window = row_weights(len(scores), file.windows, profile)
    total = np.zeros(len(thresholds))
    descending = -np.asarray(thresholds, dtype=np.float64)  # for searchsorted on -scores

    def at_or_above(values: FloatArray) -> npt.NDArray[np.int64]:
        # number of values >= t for each threshold t (values sorted descending)
        return np.searchsorted(-values, descending, side="right").astype(np.int64)

    outside = window == -1
    order = np.argsort(-scores[outside], kind="stable")
    cost = np.concatenate([[0.0], np.cumsum(weight[outside][order])])
    total += cost[at_or_above(scores[outside][order])]
    for number in range(len(file.windows)):
        inside = window == number
        if not inside.any():
            continue
        order = np.argsort(-scores[inside], kind="stable")
        best = np.concatenate([[profile.fn], np.maximum.accumulate(weight[inside][order])])
        total += best[at_or_above(scores[inside][order])]
    return total


def candidate_thresholds(files: Sequence[LabelledFile]) -> FloatArray:
    """Every distinct score, highest first, after the never-firing sentinel."""
    values = np.unique(np.concatenate([np.asarray(f.scores, dtype=np.float64) for f in files]))
    return np.concatenate([[NEVER], values[::-1]])


def best_threshold(files: Sequence[LabelledFile], profile: Profile = STANDARD,
                   candidates: FloatArray | None = None) -> tuple[float, float]:
    """(threshold, summed raw score) maximising the raw score over ``files``."""
    thresholds = candidate_thresholds(files) if candidates is None else candidates
    total = sum((raw_by_threshold(f, thresholds, profile) for f in files),
                np.zeros(len(thresholds)))
    best = int(np.argmax(total))  # first maximum = highest threshold among ties
    return float(thresholds[best]), float(total[best])


def normalise(raw: float, null: float, perfect: float) -> float:
    """NAB's normalised score: 0 for the null detector, 100 for the perfect one."""
    return 100.0 * (raw - null) / (perfect - null)


@dataclass
class CorpusResult:
    """A set of files scored: normalised score and each file at its threshold."""

    score: float
    files: list[FileResult]


def score_optimised(files: Sequence[LabelledFile], profile: Profile = STANDARD) -> CorpusResult:
    """NAB's figure: one threshold, chosen on all the files, applied to all of them."""
    threshold, _ = best_threshold(files, profile)
    results = [score_file(f, threshold, profile) for f in files]
    return CorpusResult(_normalised(results), results)


def leave_one_out(files: Sequence[LabelledFile], profile: Profile = STANDARD) -> CorpusResult:
    """Each file scored at the threshold that is best on the other files."""
    candidates = candidate_thresholds(files)
    curves = [raw_by_threshold(f, candidates, profile) for f in files]
    results = []
    for held_out, file in enumerate(files):
        others = sum((c for i, c in enumerate(curves) if i != held_out),
                     np.zeros(len(candidates)))
        threshold = float(candidates[int(np.argmax(others))])
        results.append(score_file(file, threshold, profile))
    return CorpusResult(_normalised(results), results)


def _normalised(results: Sequence[FileResult]) -> float:
    return normalise(sum(r.raw for r in results), sum(r.null for r in results),
                     sum(r.perfect for r in results))
