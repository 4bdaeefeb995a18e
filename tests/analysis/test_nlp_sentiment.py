"""Sentiment model and analyzer: caching, shipped heads, stored embeddings."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pytest

from veilleur.analysis.nlp import (
    LABELS,
    Analyzer,
    LinearHead,
    SentimentModel,
    SentimentResult,
    pack,
    shipped_analyzer,
    unpack,
)
from veilleur.analysis.nlp.cues import FEATURE_NAMES
from veilleur.analysis.nlp.embedding import default_embedder
from veilleur.analysis.nlp.sentiment import cache_key, features_for, load_shipped_head


class CountingEmbedder:
    """A deterministic stand-in for the sentence encoder that records what it embeds."""

    name = "fake"
    dim = 8

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
            row = np.random.default_rng(seed).standard_normal(self.dim)
            rows.append(row / np.linalg.norm(row))
        return np.array(rows, dtype=np.float32)

    @property
    def embedded(self) -> list[str]:
        return [text for call in self.calls for text in call]


def fake_head(labels: tuple[str, ...] = LABELS) -> LinearHead:
    d = CountingEmbedder.dim + len(FEATURE_NAMES)
    rng = np.random.default_rng(0)
    return LinearHead(features="fake+cues", mean=np.zeros(d), scale=np.ones(d),
                      weights=rng.standard_normal((d, len(labels))), bias=np.zeros(len(labels)),
                      labels=labels)


def fake_model(cache_size: int = 100) -> tuple[SentimentModel, CountingEmbedder]:
    embedder = CountingEmbedder()
    return SentimentModel(fake_head(), embedder=embedder, cache_size=cache_size), embedder


# --- caching -----------------------------------------------------------------------------


def test_texts_differing_only_by_links_and_handles_are_embedded_once() -> None:
    model, embedder = fake_model()
    texts = [
        "@AcmeAir still waiting for my refund https://t.co/abc",
        "@acme_help Still waiting for my   refund https://t.co/xyz",
        "@AcmeAir still waiting for my refund https://t.co/abc",
    ]
    results = model.predict(texts, ["en"] * 3)
    assert len(embedder.calls) == 1
    assert len(embedder.embedded) == 1
    assert results[0] == results[1] == results[2]


def test_a_repeated_text_is_a_cache_hit_across_batches() -> None:
    model, embedder = fake_model()
    first = model.predict(["Vol annulé, merci pour rien"], ["fr"])
    again = model.predict(["vol annulé, MERCI pour rien", "Bon voyage"], ["fr", "fr"])
    assert embedder.embedded == ["Vol annulé, merci pour rien", "Bon voyage"]
    assert again[0] == first[0]


def test_the_same_text_in_two_languages_is_two_entries() -> None:
    model, embedder = fake_model()
    model.predict(["ok super", "ok super"], ["fr", "en"])
    assert embedder.embedded == ["ok super", "ok super"]


def test_results_come_back_in_input_order_with_their_embedding() -> None:
    model, embedder = fake_model()
    texts = ["alpha text", "beta text", "alpha text", "gamma text"]
    results = model.predict(texts, ["en"] * 4)
    assert embedder.embedded == ["alpha text", "beta text", "gamma text"]
    expected = CountingEmbedder().embed(texts)
    for (result, vector), row in zip(results, expected, strict=True):
        assert isinstance(result, SentimentResult)
        assert vector is not None and np.array_equal(vector, row)
        assert result.label in LABELS
        assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-3)


def test_the_oldest_entry_leaves_a_full_cache() -> None:
    model, embedder = fake_model(cache_size=2)
    for text in ("one", "two", "three"):
        model.predict([text], ["en"])
    model.predict(["three"], ["en"])
    assert embedder.embedded == ["one", "two", "three"]
    model.predict(["one"], ["en"])  # evicted: embedded again
    assert embedder.embedded == ["one", "two", "three", "one"]


def test_a_batch_larger_than_the_cache_still_gets_every_result() -> None:
    model, _ = fake_model(cache_size=2)
    results = model.predict(["one", "two", "three"], ["en"] * 3)
    assert len(results) == 3


def test_cache_keys_fold_case_links_handles_and_spaces() -> None:
    assert cache_key("Merci @SNCF  https://x.fr/a", "fr") == cache_key("merci @ter http://b", "fr")
    assert cache_key("merci", "fr") != cache_key("merci", "en")
    assert cache_key("merci", "fr") != cache_key("merci beaucoup", "fr")


def test_a_lexicon_head_needs_no_embedder() -> None:
    model = SentimentModel(load_shipped_head("lexicon"))
    assert model.embedder is None
    ((result, vector),) = model.predict(["I love it"], ["en"])
    assert vector is None
    assert result.label == "positive"


def test_an_embedding_head_without_embeddings_is_refused() -> None:
    with pytest.raises(ValueError, match="needs embeddings"):
        features_for("use-m3+cues", ["text"], ["en"], None)


def test_a_head_with_fewer_labels_still_reports_all_three_scores() -> None:
    model = SentimentModel(fake_head(("negative", "positive")), embedder=CountingEmbedder())
    ((result, _),) = model.predict(["whatever"], ["en"])
    assert set(result.scores) == set(LABELS)
    assert result.scores["neutral"] == 0.0
    assert result.label in ("negative", "positive")


def test_polarity_is_positive_minus_negative() -> None:
    result = SentimentResult("positive", {"negative": 0.1, "neutral": 0.2, "positive": 0.7})
    assert result.polarity == pytest.approx(0.6)


# --- the shipped heads (real encoder) ---------------------------------------------------------

CLEAR = [
    ("C'est une honte, toujours pas reçu ma commande et le service client ne répond pas.",
     "fr", "negative"),
    ("Nul, horrible, je suis furieux contre cette entreprise.", "fr", "negative"),
    ("Livraison super rapide et produit parfait, je recommande vivement, merci !", "fr",
     "positive"),
    ("J'adore cette nouvelle application, elle est géniale !", "fr", "positive"),
    ("Le magasin ouvre à 9 heures du lundi au samedi.", "fr", "neutral"),
    ("La réunion du conseil municipal aura lieu jeudi à 18 heures.", "fr", "neutral"),
    ("This is the worst service ever, still waiting for my refund after three weeks.", "en",
     "negative"),
    ("I hate this company, terrible and rude staff.", "en", "negative"),
    ("Absolutely love the new update, thank you so much team!", "en", "positive"),
    ("What a wonderful experience, the staff were amazing and kind.", "en", "positive"),
    ("The store opens at 9am Monday to Saturday.", "en", "neutral"),
    ("The train to Leeds leaves from platform 4.", "en", "neutral"),
]


@pytest.mark.parametrize("mode", ["model", "lexicon"])
def test_the_shipped_heads_get_clear_sentences_right(mode: str) -> None:
    analyses = shipped_analyzer(mode).analyze([text for text, _, _ in CLEAR])
    got = [(analysis.lang, analysis.sentiment) for analysis in analyses]
    assert got == [(lang, label) for _, lang, label in CLEAR]
    for analysis in analyses:
        assert sum(analysis.scores.values()) == pytest.approx(1.0, abs=1e-3)
        assert analysis.scores[analysis.sentiment] == max(analysis.scores.values())


def test_the_model_mode_is_sure_of_clear_sentences() -> None:
    analyses = shipped_analyzer("model").analyze([text for text, _, _ in CLEAR])
    assert all(analysis.scores[analysis.sentiment] > 0.6 for analysis in analyses)
    assert analyses[0].polarity < -0.5 < 0.5 < analyses[2].polarity


def test_model_mode_returns_the_embedding_and_lexicon_mode_none() -> None:
    (model,) = shipped_analyzer("model").analyze(["Merci pour votre aide"])
    (lexicon,) = shipped_analyzer("lexicon").analyze(["Merci pour votre aide"])
    assert model.embedding is not None and model.embedding.shape == (512,)
    assert lexicon.embedding is None
    assert model.model.startswith("model-") and lexicon.model.startswith("lexicon-")


def test_the_analyzer_uses_hints_and_the_workspace_languages() -> None:
    analyzer = shipped_analyzer("lexicon")
    texts = ["The store opens at 9am.", "Der Laden öffnet um neun Uhr morgens jeden Tag.", "👍"]
    langs = [a.lang for a in analyzer.analyze(texts, languages=("fr", "en"),
                                              hints=["fr", "", ""])]
    assert langs == ["fr", "other", "other"]
    with pytest.raises(ValueError):
        analyzer.analyze(texts, hints=["fr"])


def test_the_shipped_analyzer_is_shared_and_checks_its_mode() -> None:
    assert shipped_analyzer("lexicon") is shipped_analyzer("lexicon")
    assert isinstance(shipped_analyzer("lexicon"), Analyzer)
    with pytest.raises(ValueError, match="unknown sentiment mode"):
        shipped_analyzer("bert")


def test_the_shipped_heads_carry_their_card_data() -> None:
    model, lexicon = load_shipped_head("model"), load_shipped_head("lexicon")
    assert model.features == "use-m3+cues" and lexicon.features == "cues"
    assert model.weights.shape == (512 + len(FEATURE_NAMES), 3)
    for head in (model, lexicon):
        assert head.labels == LABELS
        assert 0.25 <= head.temperature <= 8
        assert {"version", "trained_on", "examples", "cv_macro_f1"} <= set(head.meta)


# --- stored embeddings -----------------------------------------------------------------------


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_packed_sentence_embeddings_keep_their_direction() -> None:
    vectors = default_embedder().embed(
        ["toujours pas reçu ma commande", "Great flight, thanks!", "😀", "x" * 3000])
    for vector in vectors:
        blob = pack(vector)
        assert len(blob) == 4 + 512
        assert cosine(unpack(blob), vector) > 0.999


def test_packing_keeps_random_vectors_close() -> None:
    rng = np.random.default_rng(42)
    for _ in range(50):
        vector = rng.standard_normal(512).astype(np.float32) * rng.uniform(1e-3, 1e3)
        restored = unpack(pack(vector))
        assert cosine(restored, vector) > 0.999
        assert np.abs(restored - vector).max() <= np.abs(vector).max() / 127 / 2 * 1.001


def test_packing_a_zero_vector_gives_zeros() -> None:
    restored = unpack(pack(np.zeros(512)))
    assert restored.dtype == np.float32
    assert np.array_equal(restored, np.zeros(512))
