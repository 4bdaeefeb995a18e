"""Training the shipped heads from named data files, with a model card.

``veilleur sentiment train --data FILE... --out DIR`` calls ``train_heads`` and
``write_heads``. The procedure is deterministic: the same files give the same
weights. Five-fold cross-validation on the training files gives the out-of-fold
logits that fit the temperature (calibration) and the figures in the card; the
final heads are then fitted on everything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from veilleur.analysis.nlp.cues import cue_matrix
from veilleur.analysis.nlp.datasets import Dataset
from veilleur.analysis.nlp.embedding import Embedder
from veilleur.analysis.nlp.head import LABELS, LinearHead, fit_head, fit_temperature, label_indices
from veilleur.analysis.nlp.language import detect_language
from veilleur.analysis.nlp.metrics import accuracy, macro_f1
from veilleur.analysis.nlp.sentiment import HEAD_FILES

# Strong shrinkage: the seed sentences are few and written in one voice, and a head
# that leans hard on them generalises worse to real posts. Chosen from a coarse sweep
# (1 to 10,000, one order of magnitude apart); see docs/sentiment.md.
DEFAULT_L2 = 2000.0
LEXICON_L2 = 1.0
FOLDS = 5
Progress = Callable[[str], None]


@dataclass
class TrainedHeads:
    model: LinearHead
    lexicon: LinearHead
    card: str
    accurate: LinearHead | None = None


def folds(
    labels: npt.NDArray[np.int64], k: int = FOLDS, seed: int = 0
) -> list[npt.NDArray[np.int64]]:
    """k stratified folds of indices, deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    buckets: list[list[int]] = [[] for _ in range(k)]
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        for i, index in enumerate(members):
            buckets[i % k].append(int(index))
    return [np.array(sorted(bucket), dtype=np.int64) for bucket in buckets]


def cross_validate(
    x: npt.NDArray[np.float32], y: npt.NDArray[np.int64], *, features: str, l2: float
) -> tuple[float, float, float]:
    """(temperature, out-of-fold macro-F1, out-of-fold accuracy)."""
    logits = np.zeros((len(y), len(LABELS)))
    for held_out in folds(y):
        train = np.setdiff1d(np.arange(len(y)), held_out)
        head = fit_head(x[train], y[train], features=features, l2=l2)
        logits[held_out] = head.logits(x[held_out])
    predicted = [LABELS[i] for i in logits.argmax(axis=1)]
    truth = [LABELS[i] for i in y]
    return (fit_temperature(logits, y), macro_f1(truth, predicted, LABELS),
            accuracy(truth, predicted))


def train_heads(
    datasets: Sequence[Dataset],
    embedder: Embedder,
    *,
    l2: float = DEFAULT_L2,
    trained_on: date,
    data_licence: str,
    accurate_embedder: Embedder | None = None,
    progress: Progress = lambda message: None,
) -> TrainedHeads:
    """The model and lexicon heads, and the accurate head when its embedder is given."""
    examples = [example for dataset in datasets for example in dataset.examples]
    texts = [example.text for example in examples]
    langs = [example.lang or detect_language(example.text, ("fr", "en")) for example in examples]
    y = label_indices([example.label for example in examples])
    progress(f"cues for {len(texts)} texts")
    cues = cue_matrix(texts, langs)
    progress(f"embeddings for {len(texts)} texts ({embedder.name})")
    x_model = np.hstack([embedder.embed(texts), cues]).astype(np.float32)
    plan = [("model", f"{embedder.name}+cues", x_model, l2),
            ("lexicon", "cues", cues, LEXICON_L2)]
    if accurate_embedder is not None:
        progress(f"embeddings for {len(texts)} texts ({accurate_embedder.name}; slow)")
        x_accurate = np.hstack([accurate_embedder.embed(texts), cues]).astype(np.float32)
        plan.append(("accurate", f"{accurate_embedder.name}+cues", x_accurate, l2))
    version = f"{trained_on.isoformat()}-{_fingerprint(datasets)}"
    heads = {}
    for mode, features, x, strength in plan:
        progress(f"{mode} head: {FOLDS}-fold cross-validation")
        temperature, cv_f1, cv_accuracy = cross_validate(x, y, features=features, l2=strength)
        head = fit_head(x, y, features=features, l2=strength)
        head.temperature = temperature
        head.meta = {"version": f"{mode}-{version}", "l2": strength, "trained_on":
                     trained_on.isoformat(), "examples": len(examples),
                     "cv_macro_f1": round(cv_f1, 4), "cv_accuracy": round(cv_accuracy, 4)}
        heads[mode] = head
    card = model_card(datasets, heads, data_licence)
    return TrainedHeads(model=heads["model"], lexicon=heads["lexicon"], card=card,
                        accurate=heads.get("accurate"))


def write_heads(trained: TrainedHeads, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    heads = {"model": trained.model, "lexicon": trained.lexicon, "accurate": trained.accurate}
    paths = []
    for mode, head in heads.items():
        if head is not None:
            paths.append(out / HEAD_FILES[mode])
            paths[-1].write_bytes(head.to_bytes())
    paths.append(out / "MODEL_CARD.md")
    paths[-1].write_text(trained.card, encoding="utf-8")
    return paths


def _fingerprint(datasets: Sequence[Dataset]) -> str:
    import hashlib

    joined = "".join(sorted(dataset.sha256 for dataset in datasets))
    return hashlib.sha256(joined.encode()).hexdigest()[:8]


def model_card(
    datasets: Sequence[Dataset], heads: dict[str, LinearHead], data_licence: str
) -> str:
    embedder = heads["model"].features.split("+")[0]
    lines = [
        "# Veilleur sentiment heads: model card",
        "",
        "Written by `veilleur sentiment train`; do not edit by hand.",
        "",
        "## What they are",
        "",
        "Softmax-regression heads predicting negative / neutral / positive with",
        "temperature-calibrated probabilities, for French and English:",
        "",
        f"- `sentiment-model.npz`: over the {embedder} sentence embedding (512 dims) and",
        "  12 cue features (VADER / vader-fr scores, complaint and sarcasm cues, emojis,",
        "  punctuation, capitals).",
        "- `sentiment-lexicon.npz`: over the 12 cue features only (the fast mode).",
        *(["- `sentiment-accurate.npz`: over the multilingual-e5-small (4-bit) embedding",
           "  (384 dims) and the same cues (the accurate mode, `veilleur[accurate]`)."]
          if "accurate" in heads else []),
        "",
        "## Training data",
        "",
        "| file | examples | sha256 |",
        "|---|---|---|",
    ]
    for dataset in datasets:
        lines.append(f"| `{dataset.name}` | {len(dataset.examples)} | `{dataset.sha256[:16]}…` |")
    lines += [
        "",
        f"Licence of the training data: {data_licence}",
        "",
        "## Figures on the training data (5-fold cross-validation)",
        "",
        "| head | version | examples | L2 | temperature | CV macro-F1 | CV accuracy |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode, head in heads.items():
        meta = head.meta
        lines.append(
            f"| {mode} | `{meta['version']}` | {meta['examples']} | {meta['l2']:g} | "
            f"{head.temperature:.2f} | {meta['cv_macro_f1']:.3f} | {meta['cv_accuracy']:.3f} |"
        )
    lines += [
        "",
        "Cross-validation on hand-written sentences flatters the heads; the figures on",
        "real posts are in docs/sentiment.md (`python benchmarks/sentiment.py`).",
        "",
        "## Limits",
        "",
        "- Trained on a few thousand short texts written for the project: sarcasm,",
        "  domain jargon and very long reviews are handled worse than plain complaints.",
        "- Other languages get the English cues and the multilingual embedding: usable,",
        "  not measured.",
        "- Correct a workspace's mentions in the UI or API to retrain a head for it.",
        "",
    ]
    return "\n".join(lines)
