"""The NAB scorer of benchmarks/nab_scoring.py on synthetic files whose score is known."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from benchmarks import nab_scoring as nab

ROWS = 1000  # probation: the first 150 rows
WINDOWS = [(300, 399), (600, 699)]
EDGE = nab.sigma(-1.0)  # what a detection on a window's first row earns: 0.9866


def fire_at(*rows: int, length: int = ROWS) -> list[float]:
    scores = [0.0] * length
    for row in rows:
        scores[row] = 1.0
    return scores


def raw(scores: list[float], windows=WINDOWS, threshold: float = 0.5, **profile) -> float:
    file = nab.LabelledFile("f", scores, windows)
    return nab.score_file(file, threshold, nab.Profile(**profile)).raw


def test_the_sigmoid_runs_from_one_through_zero_to_minus_one():
    assert nab.sigma(-1.0) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert nab.sigma(0.0) == 0.0
    assert nab.sigma(3.5) == -1.0


def test_probation_is_fifteen_percent_capped_at_750_rows():
    assert nab.probation_length(1000) == 150
    assert nab.probation_length(15_902) == 750


def test_a_perfect_detector_scores_100():
    files = [nab.LabelledFile("f", fire_at(300, 600), WINDOWS)]
    # NAB's code scales a window's credit so that its first row earns exactly A_TP.
    as_nab_code = nab.Profile(tp_relative_to_edge=True)
    assert nab.score_optimised(files, as_nab_code).score == pytest.approx(100.0)
    # Read literally, the README's rule earns sigma(-1) there: 99.3, not quite 100.
    assert nab.score_optimised(files).score == pytest.approx(100 * (1 + EDGE) / 2)


def test_a_detector_that_never_fires_scores_0():
    files = [nab.LabelledFile("f", [0.0] * ROWS, WINDOWS),
             nab.LabelledFile("g", [0.0] * 500, [(200, 260)])]
    assert nab.score_optimised(files).score == 0.0
    assert nab.leave_one_out(files).score == 0.0


def test_an_early_detection_beats_a_late_one():
    early, middle, late = raw(fire_at(310, 600)), raw(fire_at(350, 600)), raw(fire_at(395, 600))
    assert early > middle > late
    # In the middle of a window a detection earns sigma(-0.5), about 0.85.
    assert middle - raw(fire_at(600)) == pytest.approx(1 + nab.sigma(-0.5), abs=0.01)


def test_only_the_earliest_detection_in_a_window_counts():
    assert raw(fire_at(320, 600)) == raw(fire_at(320, 321, 390, 600))


def test_a_false_positive_before_the_first_window_costs_the_full_weight():
    assert raw(fire_at(200, 300, 600)) - raw(fire_at(300, 600)) == pytest.approx(-0.11)


def test_false_positives_just_after_a_window_cost_less_than_far_after():
    base = raw(fire_at(300, 600))
    just_after = raw(fire_at(300, 402, 600)) - base
    far_after = raw(fire_at(300, 590, 600)) - base
    assert -0.11 * 0.2 < just_after < 0
    assert far_after == pytest.approx(-0.11 * abs(nab.sigma((590 - 399) / 99)))
    assert -0.11 <= far_after < just_after


def test_rows_in_probation_are_ignored():
    # A detection in probation neither costs nor helps, even inside a window.
    assert raw(fire_at(10, 300, 600)) == raw(fire_at(300, 600))
    probation_window = raw(fire_at(100, 600), windows=[(90, 120), (600, 699)])
    assert probation_window == raw(fire_at(600), windows=[(600, 699)])


def test_a_missed_window_costs_one():
    assert raw(fire_at(300)) == pytest.approx(EDGE - 1)  # one window found, one missed
    assert raw([0.0] * ROWS) == -2.0


def test_the_sweep_agrees_with_scoring_each_threshold():
    rng = random.Random(7)
    files = []
    for n in range(3):
        scores = [round(rng.random() ** 6, 3) for _ in range(ROWS)]
        files.append(nab.LabelledFile(f"f{n}", scores, WINDOWS))
    candidates = nab.candidate_thresholds(files)
    for file in files:
        curve = nab.raw_by_threshold(file, candidates)
        for threshold, value in zip(candidates[::37], curve[::37], strict=True):
            assert value == pytest.approx(nab.score_file(file, float(threshold)).raw)
    best, total = nab.best_threshold(files)
    assert total == pytest.approx(float(np.max(sum(nab.raw_by_threshold(f, candidates)
                                                   for f in files))))
    assert total == pytest.approx(sum(nab.score_file(f, best).raw for f in files))


def test_leave_one_out_scores_each_file_at_the_others_threshold():
    # Two files agree that 0.9 is the right threshold; the third would want 0.5 (its
    # window only reaches 0.6) but is scored at 0.9, so its window counts as missed.
    agree = [0.0] * ROWS
    agree[300], agree[600], agree[800] = 0.95, 0.95, 0.7  # 0.7: a false alarm at 0.5
    odd = [0.0] * ROWS
    odd[300], odd[600] = 0.6, 0.6
    files = [nab.LabelledFile("a", agree, WINDOWS), nab.LabelledFile("b", agree, WINDOWS),
             nab.LabelledFile("c", odd, WINDOWS)]
    held_out = nab.leave_one_out(files)
    thresholds = {r.name: r.threshold for r in held_out.files}
    assert thresholds["c"] == 0.95
    assert held_out.files[2].detected == 0
    assert held_out.score < nab.score_optimised(files).score


def test_windows_must_be_sorted_and_inside_the_file():
    with pytest.raises(ValueError, match="windows"):
        nab.LabelledFile("f", [0.0] * 10, [(5, 8), (2, 3)])
    with pytest.raises(ValueError, match="windows"):
        nab.LabelledFile("f", [0.0] * 10, [(5, 10)])
