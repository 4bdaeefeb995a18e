"""Enrichment of mentions: language, sentiment and embedding in one call.

The pipeline, ``veilleur analyze`` and the benchmark all go through ``Analyzer``,
so what the benchmark measures is what the product does.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from veilleur.analysis.nlp.embedding import FloatMatrix
from veilleur.analysis.nlp.language import detect_language
from veilleur.analysis.nlp.sentiment import MODES, SentimentModel, load_shipped_head

DEFAULT_LANGUAGES = ("fr", "en")


@dataclass(frozen=True)
class Analysis:
    lang: str
    sentiment: str
    scores: dict[str, float]
    embedding: FloatMatrix | None
    model: str

    @property
    def polarity(self) -> float:
        return self.scores["positive"] - self.scores["negative"]


class Analyzer:
    """Language + sentiment (+ embedding in ``model`` mode) for batches of texts."""

    def __init__(self, sentiment: SentimentModel) -> None:
        self.sentiment = sentiment

    @property
    def version(self) -> str:
        return self.sentiment.version

    def analyze(
        self,
        texts: Sequence[str],
        languages: Sequence[str] = DEFAULT_LANGUAGES,
        hints: Sequence[str] | None = None,
    ) -> list[Analysis]:
        """One ``Analysis`` per text, in order; ``hints`` are sources' language hints."""
        hints = hints if hints is not None else [""] * len(texts)
        langs = [
            detect_language(text, languages, hint)
            for text, hint in zip(texts, hints, strict=True)
        ]
        predictions = self.sentiment.predict(texts, langs)
        return [
            Analysis(lang=lang, sentiment=result.label, scores=result.scores,
                     embedding=vector, model=self.version)
            for lang, (result, vector) in zip(langs, predictions, strict=True)
        ]


_shared: dict[str, Analyzer] = {}
_lock = threading.Lock()


def shipped_analyzer(mode: str = "model") -> Analyzer:
    """The process-wide analyzer with the shipped head of ``mode``."""
    if mode not in MODES:
        raise ValueError(f"unknown sentiment mode {mode!r}; expected one of {', '.join(MODES)}")
    if mode not in _shared:
        with _lock:
            if mode not in _shared:
                head = load_shipped_head(mode)
                _shared[mode] = Analyzer(SentimentModel(head))
    return _shared[mode]
