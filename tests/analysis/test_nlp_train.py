"""Training the shipped heads: deterministic, with a model card naming the data."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from veilleur.analysis.nlp.cues import FEATURE_NAMES
from veilleur.analysis.nlp.datasets import Dataset, load_dataset
from veilleur.analysis.nlp.head import LABELS, LinearHead, label_indices
from veilleur.analysis.nlp.sentiment import SentimentModel
from veilleur.analysis.nlp.train import (
    LEXICON_L2,
    TrainedHeads,
    cross_validate,
    folds,
    train_heads,
    write_heads,
)

TODAY = date(2026, 3, 1)
LICENCE = "Apache-2.0 (written for the tests)"


class HashEmbedder:
    """Deterministic vectors from the text's hash: no model, same input, same output."""

    name = "hash"
    dim = 8

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
            row = np.random.default_rng(seed).standard_normal(self.dim)
            rows.append(row / np.linalg.norm(row))
        return np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)


SENTENCES = {
    "negative": ["still waiting for my refund", "worst service ever", "I hate this app",
                 "toujours pas reçu ma commande", "service client nul, une honte",
                 "terrible delay again 😡", "c'est inadmissible", "never arrived, scam",
                 "quelle arnaque", "awful and rude staff"],
    "neutral": ["the shop opens at nine", "le magasin ouvre à neuf heures",
                "flight 22 leaves from gate 4", "la réunion est jeudi",
                "new timetable published today", "le train part du quai 3",
                "my order number is 1234", "la facture arrive le 5",
                "the meeting is on Tuesday", "nouvelle version disponible"],
    "positive": ["love it, thank you!", "great service, well done team", "j'adore, merci",
                 "super rapide, parfait 😍", "best flight I've had", "service client au top",
                 "amazing staff, so kind", "génial, je recommande", "fixed in minutes, thanks",
                 "très contente de mon achat"],
}


def tiny_files(folder: Path) -> list[Path]:
    """Two small JSONL files; some lines without ``lang`` (detected in training)."""
    en, fr = [], []
    for label, texts in SENTENCES.items():
        for i, text in enumerate(texts):
            record: dict[str, str] = {"text": text, "label": label}
            if i % 3:
                record["lang"] = "fr" if any(c in text for c in "çéàû") else "en"
            (fr if i % 2 else en).append(json.dumps(record, ensure_ascii=False))
    paths = [folder / "tiny-a.jsonl", folder / "tiny-b.jsonl"]
    paths[0].write_text("\n".join(en) + "\n", encoding="utf-8")
    paths[1].write_text("\n".join(fr) + "\n", encoding="utf-8")
    return paths


@pytest.fixture
def datasets(tmp_path: Path) -> list[Dataset]:
    return [load_dataset(path) for path in tiny_files(tmp_path)]


def train(datasets: Sequence[Dataset], l2: float = 10.0) -> TrainedHeads:
    return train_heads(datasets, HashEmbedder(), l2=l2, trained_on=TODAY, data_licence=LICENCE)


def test_training_twice_gives_the_same_bytes(datasets: list[Dataset]) -> None:
    first, second = train(datasets), train(datasets)
    assert first.model.to_bytes() == second.model.to_bytes()
    assert first.lexicon.to_bytes() == second.lexicon.to_bytes()
    assert first.card == second.card


def test_the_heads_say_what_feeds_them(datasets: list[Dataset]) -> None:
    trained = train(datasets)
    assert trained.model.features == "hash+cues"
    assert trained.model.weights.shape == (HashEmbedder.dim + len(FEATURE_NAMES), len(LABELS))
    assert trained.lexicon.features == "cues"
    assert trained.lexicon.weights.shape == (len(FEATURE_NAMES), len(LABELS))
    assert trained.model.meta["l2"] == 10.0 and trained.lexicon.meta["l2"] == LEXICON_L2
    assert trained.model.meta["examples"] == 30
    assert trained.model.meta["trained_on"] == "2026-03-01"
    assert 0.25 <= trained.model.temperature <= 8


def test_the_version_names_the_date_and_the_data(datasets: list[Dataset], tmp_path: Path) -> None:
    trained = train(datasets)
    version = trained.model.meta["version"]
    assert version.startswith("model-2026-03-01-")
    assert trained.lexicon.meta["version"] == version.replace("model-", "lexicon-", 1)
    # The data's fingerprint does not depend on the order the files are given in...
    assert train(datasets[::-1]).model.meta["version"] == version
    # ...but changes with the data.
    changed = tmp_path / "tiny-a.jsonl"
    changed.write_text(changed.read_text(encoding="utf-8").replace("nine", "ten"),
                       encoding="utf-8")
    assert train([load_dataset(changed), datasets[1]]).model.meta["version"] != version


def test_the_card_lists_the_files_licence_and_figures(datasets: list[Dataset]) -> None:
    card = train(datasets).card
    for dataset in datasets:
        assert f"| `{dataset.name}` | {len(dataset.examples)} | `{dataset.sha256[:16]}…` |" in card
    assert f"Licence of the training data: {LICENCE}" in card
    assert "| model | `model-2026-03-01-" in card
    assert "| lexicon | `lexicon-2026-03-01-" in card
    assert "hash sentence embedding" in card


def test_written_heads_load_back_and_predict(datasets: list[Dataset], tmp_path: Path) -> None:
    trained = train(datasets)
    paths = write_heads(trained, tmp_path / "out")
    assert [path.name for path in paths] == [
        "sentiment-model.npz", "sentiment-lexicon.npz", "MODEL_CARD.md"]
    model = LinearHead.from_bytes(paths[0].read_bytes())
    assert model.to_bytes() == trained.model.to_bytes()
    assert paths[2].read_text(encoding="utf-8") == trained.card
    predicted = SentimentModel(model, embedder=HashEmbedder()).predict(
        ["worst service ever", "love it, thank you!"], ["en", "en"])
    assert [result.label for result, _ in predicted] == ["negative", "positive"]


def test_folds_are_a_stratified_partition() -> None:
    y = label_indices(["negative"] * 12 + ["neutral"] * 7 + ["positive"] * 11)
    parts = folds(y, k=5)
    everything = np.concatenate(parts)
    assert sorted(everything.tolist()) == list(range(30))
    for part in parts:
        counts = np.bincount(y[part], minlength=3)
        assert (np.abs(counts - np.bincount(y, minlength=3) / 5) <= 1).all()


def test_folds_are_deterministic_per_seed() -> None:
    y = label_indices(["negative", "neutral", "positive"] * 20)
    same = [part.tolist() for part in folds(y, seed=0)]
    assert same == [part.tolist() for part in folds(y, seed=0)]
    assert same != [part.tolist() for part in folds(y, seed=1)]


def test_cross_validation_scores_a_learnable_problem_well() -> None:
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 40)
    x = (np.eye(3)[y] * 3 + rng.standard_normal((120, 3))).astype(np.float32)
    temperature, f1, acc = cross_validate(x, y, features="test", l2=1.0)
    assert f1 > 0.85 and acc > 0.85
    assert 0.25 <= temperature <= 8
