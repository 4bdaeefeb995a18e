"""The linear sentiment head: fitting, shrinkage towards a prior, calibration, storage."""

from __future__ import annotations

import numpy as np
import pytest

from veilleur.analysis.nlp.head import (
    LABELS,
    LinearHead,
    fit_head,
    fit_temperature,
    label_indices,
    softmax,
)

CENTRES = np.array([[-3.0, 0.0, 1.0, 0.0], [0.0, 3.0, 1.0, 0.0], [3.0, 0.0, 1.0, 0.0]])


def blobs(n_per_label: int, seed: int, spread: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated clusters, one per label, in 4 dimensions."""
    rng = np.random.default_rng(seed)
    x = np.vstack([centre + spread * rng.standard_normal((n_per_label, 4)) for centre in CENTRES])
    y = np.repeat(np.arange(3), n_per_label)
    return x, y


def predictions(head: LinearHead, x: np.ndarray) -> np.ndarray:
    return head.predict_proba(x).argmax(axis=1)


def log_loss(probabilities: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(np.log(probabilities[np.arange(len(y)), y])))


def test_it_separates_a_separable_problem() -> None:
    x, y = blobs(100, seed=1)
    head = fit_head(x, y, features="test", l2=1.0)
    fresh_x, fresh_y = blobs(100, seed=2)
    assert np.array_equal(predictions(head, x), y)
    assert np.mean(predictions(head, fresh_x) == fresh_y) > 0.99
    probabilities = head.predict_proba(fresh_x)
    assert probabilities.shape == (300, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)


def test_fitting_is_deterministic() -> None:
    x, y = blobs(30, seed=3)
    first = fit_head(x, y, features="test")
    second = fit_head(x, y, features="test")
    assert np.array_equal(first.weights, second.weights)
    assert np.array_equal(first.bias, second.bias)


def test_a_constant_feature_does_not_break_standardisation() -> None:
    x, y = blobs(30, seed=4)
    x[:, 3] = 5.0  # a feature that never varies in the training data
    head = fit_head(x, y, features="test")
    assert head.scale[3] == 1.0
    assert np.all(np.isfinite(head.predict_proba(x)))


def test_a_round_trip_through_bytes_gives_the_same_predictions() -> None:
    x, y = blobs(40, seed=5)
    head = fit_head(x, y, features="use-m3+cues", meta={"version": "v1", "examples": 120})
    head.temperature = 1.7
    copy = LinearHead.from_bytes(head.to_bytes())
    assert np.array_equal(copy.predict_proba(x), head.predict_proba(x))
    assert (copy.features, copy.temperature, copy.labels, copy.meta) == (
        "use-m3+cues", 1.7, LABELS, {"version": "v1", "examples": 120})
    # Same head, same bytes: a retrained head that did not change is not a new file.
    assert copy.to_bytes() == head.to_bytes()


def test_with_a_prior_and_agreeing_data_the_head_barely_moves() -> None:
    x, y = blobs(100, seed=6)
    prior = fit_head(x, y, features="test", l2=1.0)
    # A few corrections, one per label, that say what the prior already says.
    few_x, few_y = blobs(3, seed=7)
    updated = fit_head(few_x, few_y, features="test", l2=10.0, prior=prior)
    moved = np.linalg.norm(updated.weights - prior.weights) / np.linalg.norm(prior.weights)
    assert moved < 0.01
    fresh_x, _ = blobs(100, seed=8)
    assert np.array_equal(predictions(updated, fresh_x), predictions(prior, fresh_x))
    # The prior's standardisation is kept, so the weights stay comparable.
    assert np.array_equal(updated.mean, prior.mean)
    assert np.array_equal(updated.scale, prior.scale)


def test_with_a_prior_agreeing_corrections_of_one_label_change_little() -> None:
    x, y = blobs(100, seed=6)
    prior = fit_head(x, y, features="test", l2=1.0)
    few_x, few_y = blobs(5, seed=7)
    negatives = few_y == 0  # five corrections, all "negative", all agreeing with the prior
    updated = fit_head(few_x[negatives], few_y[negatives], features="test", l2=1e4, prior=prior)
    fresh_x, _ = blobs(100, seed=8)
    changed = np.mean(predictions(updated, fresh_x) != predictions(prior, fresh_x))
    assert changed < 0.05


def test_with_a_prior_and_strong_contrary_data_the_head_follows_the_data() -> None:
    x, y = blobs(100, seed=9)
    prior = fit_head(x, y, features="test", l2=1.0)
    swapped = 2 - y  # this workspace calls negative what the prior calls positive
    updated = fit_head(x, swapped, features="test", l2=1.0, prior=prior)
    fresh_x, fresh_y = blobs(100, seed=10)
    polar = fresh_y != 1  # neutral is neutral for both
    assert np.mean(predictions(prior, fresh_x)[polar] == 2 - fresh_y[polar]) < 0.05
    assert np.mean(predictions(updated, fresh_x)[polar] == 2 - fresh_y[polar]) > 0.95


def test_strong_shrinkage_keeps_the_prior_against_contrary_data() -> None:
    x, y = blobs(100, seed=11)
    prior = fit_head(x, y, features="test", l2=1.0)
    swapped = 2 - y
    weak = fit_head(x, swapped, features="test", l2=1.0, prior=prior)
    strong = fit_head(x, swapped, features="test", l2=1e6, prior=prior)
    moved_weak = np.abs(weak.weights - prior.weights).max()
    moved_strong = np.abs(strong.weights - prior.weights).max()
    assert moved_strong < 0.2 < moved_weak
    fresh_x, _ = blobs(100, seed=12)
    assert np.array_equal(predictions(strong, fresh_x), predictions(prior, fresh_x))


def test_sample_weights_decide_between_contradicting_examples() -> None:
    x = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 2, 1])
    towards_negative = fit_head(x, y, features="test", sample_weight=np.array([10.0, 1.0, 1.0]))
    towards_positive = fit_head(x, y, features="test", sample_weight=np.array([1.0, 10.0, 1.0]))
    point = x[:1]
    assert predictions(towards_negative, point)[0] == 0
    assert predictions(towards_positive, point)[0] == 2


def test_the_fitted_temperature_cools_an_overconfident_model() -> None:
    rng = np.random.default_rng(13)
    y = rng.integers(0, 3, 2000)
    # Honest logits: the true label is ahead by 1 on average, with noise.
    honest = rng.standard_normal((2000, 3))
    honest[np.arange(2000), y] += 1.0
    overconfident = honest * 6.0
    temperature = fit_temperature(overconfident, y)
    assert temperature > 2.0
    assert log_loss(softmax(overconfident / temperature), y) < log_loss(softmax(overconfident), y)


def test_the_fitted_temperature_sharpens_an_underconfident_model() -> None:
    rng = np.random.default_rng(14)
    y = rng.integers(0, 3, 2000)
    logits = rng.standard_normal((2000, 3)) * 0.2
    logits[np.arange(2000), y] += 1.5
    timid = logits / 4.0
    temperature = fit_temperature(timid, y)
    assert temperature < 1.0
    assert log_loss(softmax(timid / temperature), y) < log_loss(softmax(timid), y)


def test_temperature_never_changes_the_label() -> None:
    x, y = blobs(40, seed=15)
    head = fit_head(x, y, features="test")
    before = predictions(head, x)
    head.temperature = 5.0
    assert np.array_equal(predictions(head, x), before)


def test_softmax_is_stable_for_huge_logits() -> None:
    probabilities = softmax(np.array([[1000.0, 0.0, -1000.0], [5.0, 5.0, 5.0]]))
    assert np.all(np.isfinite(probabilities))
    assert probabilities[0].tolist() == pytest.approx([1.0, 0.0, 0.0])
    assert probabilities[1].tolist() == pytest.approx([1 / 3] * 3)


def test_labels_map_to_indices_and_unknown_labels_fail() -> None:
    assert label_indices(["positive", "negative", "neutral"]).tolist() == [2, 0, 1]
    with pytest.raises(KeyError):
        label_indices(["pos"])
