"""A linear sentiment head: softmax regression over standardised features.

One format serves the shipped head, the lexicon-only head and each workspace's head
retrained from its corrections. Training is plain numpy (full-batch Adam on a convex
loss, deterministic), so retraining in a worker needs no extra dependency.
Probabilities are calibrated by a temperature fitted on held-out data.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
LABELS = ("negative", "neutral", "positive")


@dataclass
class LinearHead:
    """Weights and what is needed to use them; ``meta`` is the model card's data."""

    features: str  # e.g. "use-m3+cues" or "cues": which feature extractor feeds it
    mean: FloatArray
    scale: FloatArray
    weights: FloatArray  # (n_features, n_labels)
    bias: FloatArray  # (n_labels,)
    temperature: float = 1.0
    labels: tuple[str, ...] = LABELS
    meta: dict[str, Any] = field(default_factory=dict)

    def logits(self, x: npt.NDArray[np.floating[Any]]) -> FloatArray:
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        return np.asarray(z @ self.weights + self.bias, dtype=np.float64)

    def predict_proba(self, x: npt.NDArray[np.floating[Any]]) -> FloatArray:
        return softmax(self.logits(x) / self.temperature)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        meta = {"features": self.features, "temperature": self.temperature,
                "labels": list(self.labels), "meta": self.meta}
        np.savez_compressed(
            buffer, mean=self.mean, scale=self.scale, weights=self.weights, bias=self.bias,
            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> LinearHead:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode("utf-8"))
            return cls(
                features=meta["features"],
                mean=data["mean"].astype(np.float64),
                scale=data["scale"].astype(np.float64),
                weights=data["weights"].astype(np.float64),
                bias=data["bias"].astype(np.float64),
                temperature=float(meta["temperature"]),
                labels=tuple(meta["labels"]),
                meta=meta.get("meta", {}),
            )


def softmax(logits: FloatArray) -> FloatArray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float64)


def label_indices(
    labels: Sequence[str], vocabulary: Sequence[str] = LABELS
) -> npt.NDArray[np.int64]:
    index = {label: i for i, label in enumerate(vocabulary)}
    return np.array([index[label] for label in labels], dtype=np.int64)


def fit_head(
    x: npt.NDArray[np.floating[Any]],
    y: npt.NDArray[np.int64],
    *,
    features: str,
    l2: float = 1.0,
    sample_weight: npt.NDArray[np.floating[Any]] | None = None,
    prior: LinearHead | None = None,
    steps: int = 600,
    learning_rate: float = 0.05,
    meta: dict[str, Any] | None = None,
) -> LinearHead:
    """Fit softmax regression; with ``prior``, shrink towards its weights instead of 0.

    Shrinking towards a prior is how a workspace head learns from a few dozen
    corrections without forgetting what the shipped head knows: with no corrections
    it *is* the prior, and each correction pulls it only as far as the data insists.
    The L2 strength is per example (``l2 / n``), as in scikit-learn's ``C = 1/l2``.
    """
    x = np.asarray(x, dtype=np.float64)
    n, d = x.shape
    k = len(LABELS)
    if prior is not None:
        mean, scale = prior.mean, prior.scale
        # Fold the prior's temperature into its weights: the new head starts from the
        # prior's calibrated probabilities and is trained (and used) at temperature 1.
        w0, b0 = prior.weights / prior.temperature, prior.bias / prior.temperature
    else:
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale < 1e-6] = 1.0
        w0, b0 = np.zeros((d, k)), np.zeros(k)
    z = (x - mean) / scale
    onehot = np.eye(k)[y]
    weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    weight = weight / weight.sum()
    w, b = w0.copy(), b0.copy()
    # Adam on the mean weighted cross-entropy + (l2 / n_total) * ||w - w0||^2 / 2.
    m_w, v_w, m_b, v_b = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    penalty = l2 / n
    for step in range(1, steps + 1):
        p = softmax(z @ w + b)
        residual = (p - onehot) * weight[:, None]
        grad_w = z.T @ residual + penalty * (w - w0)
        grad_b = residual.sum(axis=0)
        if prior is not None:
            # The bias is held to the prior's too: a few corrections of one label must
            # not shift every prediction towards that label.
            grad_b = grad_b + penalty * (b - b0)
        m_w = beta1 * m_w + (1 - beta1) * grad_w
        v_w = beta2 * v_w + (1 - beta2) * grad_w**2
        m_b = beta1 * m_b + (1 - beta1) * grad_b
        v_b = beta2 * v_b + (1 - beta2) * grad_b**2
        correction1, correction2 = 1 - beta1**step, 1 - beta2**step
        w -= learning_rate * (m_w / correction1) / (np.sqrt(v_w / correction2) + eps)
        b -= learning_rate * (m_b / correction1) / (np.sqrt(v_b / correction2) + eps)
    return LinearHead(features=features, mean=mean, scale=scale, weights=w, bias=b,
                      meta=dict(meta or {}))


def fit_temperature(logits: FloatArray, y: npt.NDArray[np.int64]) -> float:
    """The temperature that minimises held-out log loss (a 1-D search, 0.25 to 8)."""
    best_t, best_loss = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.25), np.log(8.0), 80)):
        p = softmax(logits / t)
        loss = float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))
        if loss < best_loss:
            best_t, best_loss = float(t), loss
    return best_t
