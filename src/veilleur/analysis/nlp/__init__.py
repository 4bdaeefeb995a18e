"""Language, sentiment and embeddings for mentions, offline, FR and EN.

Public entry points: ``shipped_analyzer(mode)`` / ``Analyzer.analyze`` for
enrichment, ``LinearHead`` and ``fit_head`` for (re)training, ``pack`` / ``unpack``
for stored embeddings. See docs/sentiment.md.
"""

from veilleur.analysis.nlp.analyzer import DEFAULT_LANGUAGES, Analysis, Analyzer, shipped_analyzer
from veilleur.analysis.nlp.embedding import pack, unpack
from veilleur.analysis.nlp.head import LABELS, LinearHead, fit_head
from veilleur.analysis.nlp.language import OTHER, detect_language
from veilleur.analysis.nlp.sentiment import MODES, SentimentModel, SentimentResult

__all__ = [
    "DEFAULT_LANGUAGES", "LABELS", "MODES", "OTHER", "Analysis", "Analyzer", "LinearHead",
    "SentimentModel", "SentimentResult", "detect_language", "fit_head", "pack",
    "shipped_analyzer", "unpack",
]
