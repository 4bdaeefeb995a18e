"""Sentiment of a mention: negative / neutral / positive with calibrated scores.

Two modes behind one interface:

- ``model`` (default): a linear head over the sentence embedding and the cues;
  about 200+ texts/s on one core, cached by normalised text so retweets and copies
  cost nothing.
- ``lexicon``: a head over the cues alone (VADER / vader-fr + complaint and sarcasm
  cues); thousands of texts/s, for very high volume.
- ``accurate``: a head over multilingual-e5-small (4-bit) and the cues; more
  accurate on tweets, about 10 texts/s a core (the ``accurate`` extra).

The heads ship in ``models/`` with their model card; a workspace may replace the
model head by one retrained from its own corrections.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from veilleur.analysis.nlp.cues import cue_matrix
from veilleur.analysis.nlp.embedding import Embedder, FloatMatrix, default_embedder
from veilleur.analysis.nlp.head import LABELS, LinearHead
from veilleur.analysis.text import fold

MODES = ("model", "lexicon", "accurate")
HEAD_FILES = {
    "model": "sentiment-model.npz",
    "lexicon": "sentiment-lexicon.npz",
    "accurate": "sentiment-accurate.npz",
}
CACHE_SIZE = 20_000
_URL = re.compile(r"https?://\S+")
_HANDLE = re.compile(r"@\w+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class SentimentResult:
    """A label and the calibrated probability of each label (they sum to 1)."""

    label: str
    scores: dict[str, float]

    @property
    def polarity(self) -> float:
        """P(positive) - P(negative), in [-1, 1]: one number to sort and chart by."""
        return self.scores["positive"] - self.scores["negative"]


def cache_key(text: str, lang: str) -> str:
    """Texts that differ only by links, handles, case or spacing share a result."""
    key = _SPACE.sub(" ", _HANDLE.sub("@u", _URL.sub("http", fold(text)))).strip()
    return f"{lang}\x00{key}"


def load_shipped_head(mode: str) -> LinearHead:
    """The head shipped in the package for ``mode``."""
    path = resources.files("veilleur.analysis.nlp").joinpath("models", HEAD_FILES[mode])
    blob = path.read_bytes()
    return LinearHead.from_bytes(blob)


def features_for(
    head_features: str,
    texts: Sequence[str],
    langs: Sequence[str],
    embeddings: FloatMatrix | None,
) -> npt.NDArray[np.float32]:
    """The feature matrix a head of kind ``head_features`` expects."""
    cues = cue_matrix(list(texts), list(langs))
    if head_features == "cues":
        return cues
    if embeddings is None:
        raise ValueError("this head needs embeddings")
    return np.hstack([embeddings, cues]).astype(np.float32)


class SentimentModel:
    """Predicts sentiment for batches of texts; safe to share within a process."""

    def __init__(
        self,
        head: LinearHead,
        embedder: Embedder | None = None,
        version: str = "",
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.head = head
        self.needs_embeddings = head.features != "cues"
        # A head's features name its embedder: "use-m3+cues", "e5-small+cues", "cues".
        self.embedder = embedder if embedder is not None else (
            default_embedder(head.features.split("+")[0]) if self.needs_embeddings else None
        )
        self.version = version or str(head.meta.get("version", head.features))
        self._cache: OrderedDict[str, tuple[SentimentResult, FloatMatrix | None]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def predict(
        self, texts: Sequence[str], langs: Sequence[str]
    ) -> list[tuple[SentimentResult, FloatMatrix | None]]:
        """(result, embedding or None) per text, in order."""
        keys = [cache_key(text, lang) for text, lang in zip(texts, langs, strict=True)]
        found: dict[str, tuple[SentimentResult, FloatMatrix | None]] = {}
        todo: dict[str, int] = {}
        with self._lock:
            for i, key in enumerate(keys):
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
                    found[key] = hit
                elif key not in todo:
                    todo[key] = i
        if todo:
            order = list(todo.values())
            batch_texts = [texts[i] for i in order]
            batch_langs = [langs[i] for i in order]
            embeddings = (
                self.embedder.embed(batch_texts)
                if self.needs_embeddings and self.embedder is not None else None
            )
            x = features_for(self.head.features, batch_texts, batch_langs, embeddings)
            probabilities = self.head.predict_proba(x)
            for row, key in enumerate(todo):
                vector = embeddings[row] if embeddings is not None else None
                found[key] = (_result(self.head.labels, probabilities[row]), vector)
            with self._lock:
                for key in todo:
                    self._cache[key] = found[key]
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        # Built from this call's own results: a batch larger than the cache, or
        # another thread evicting entries meanwhile, cannot lose an answer.
        return [found[key] for key in keys]


def _result(labels: Sequence[str], row: npt.NDArray[np.floating[Any]]) -> SentimentResult:
    scores = {label: round(float(p), 4) for label, p in zip(labels, row, strict=True)}
    for label in LABELS:
        scores.setdefault(label, 0.0)
    return SentimentResult(label=labels[int(np.argmax(row))], scores=scores)
