"""Sentiment benchmark: accuracy and macro-F1 per data set beside VADER, and texts/s.

Reads every labelled file in ``../shared/data/sentiment/`` (evaluation data, never
copied into the repository and never used to train shipped weights) and, in this one
process and on the same texts, scores:

- **Veilleur, model mode**: ``shipped_analyzer("model").analyze(texts, ("fr", "en"),
  hints=[the set's language] * n)``, the code path of the pipeline and of
  ``veilleur analyze`` (USE embedding + cues -> the shipped linear head);
- **Veilleur, lexicon mode**: the same call with the shipped cues-only head;
- **VADER** (vaderSentiment) on English sets, **vader-fr** on French sets, with the
  usual thresholds: compound >= 0.05 positive, <= -0.05 negative, neutral between.

Two-class sets (allociné: negative / positive) score Veilleur by P(negative) against
P(positive) and VADER by the sign of the compound (>= 0 is positive); macro-F1 is then
over those two labels, and over the three labels everywhere else.

Throughput is measured on one core (BLAS limited to one thread before numpy is
imported, the process pinned to one CPU where the system allows) with fresh
``SentimentModel`` instances, so the caches start empty: model mode, lexicon mode,
model mode again on the same texts (every text a cache hit), and language
identification alone (what a mention without a source hint costs on top). Loading the
models (about a second, once per process) is not counted.

``--cv-research`` also trains a head the way ``veilleur.analysis.nlp.train`` does
(``fit_head`` over the USE embedding + cues, the same L2) on the UMSAB French and
English tweets: five stratified folds per language, each fold scored by a head trained
on the other language and the four other folds, then a head trained on all of UMSAB
scored on the airline and allociné sets. UMSAB is for research use only: that head is
a measurement of what real tweets would add, and is never shipped.

    python benchmarks/sentiment.py [--data-dir ../shared/data/sentiment] [--limit N]
                                   [--json OUT] [--cv-research]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# One BLAS thread, set before numpy is imported anywhere: the figure to compare with
# the target is texts/s on one core.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import numpy as np  # noqa: E402
from machine import describe as describe_machine  # noqa: E402  (benchmarks/machine.py)
from machine import pin_to_one_core  # noqa: E402

from veilleur.analysis.nlp.analyzer import Analyzer, shipped_analyzer  # noqa: E402
from veilleur.analysis.nlp.datasets import Dataset, load_dataset  # noqa: E402
from veilleur.analysis.nlp.embedding import default_embedder  # noqa: E402
from veilleur.analysis.nlp.head import LABELS, LinearHead, fit_head, label_indices  # noqa: E402
from veilleur.analysis.nlp.language import detect_language  # noqa: E402
from veilleur.analysis.nlp.metrics import accuracy, confusion, macro_f1  # noqa: E402
from veilleur.analysis.nlp.sentiment import (  # noqa: E402
    SentimentModel,
    features_for,
    load_shipped_head,
)
from veilleur.analysis.nlp.train import DEFAULT_L2, folds  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sentiment"
LANGUAGES = ("fr", "en")
BINARY = ("negative", "positive")
SEED = 20250601
CHUNK = 256  # texts per analyze() call: a pipeline batch, and a progress step
RESEARCH = "research head (UMSAB licence: research only; not shipped)"
UMSAB = ("umsab-fr-dev.jsonl", "umsab-en-dev.jsonl")


@dataclass(frozen=True)
class SetSpec:
    """What the issue says about a data set: its language, labels and target."""

    lang: str
    labels: tuple[str, ...]
    target: float | None = None
    baseline: str = ""


# The table (issue 4), in its order; other files in the folder are scored too.
KNOWN = {
    "airline-dev.csv": SetSpec("en", LABELS, 0.68, "VADER 0.457"),
    "umsab-fr-dev.jsonl": SetSpec("fr", LABELS, 0.72, "vader-fr 0.554"),
    "umsab-en-dev.jsonl": SetSpec("en", LABELS, 0.70, "VADER 0.56"),
    "allocine-tv-dev.jsonl": SetSpec("fr", BINARY, 0.90, "vader-fr 0.668"),
}


@dataclass
class EvalSet:
    name: str
    spec: SetSpec
    texts: list[str]
    truth: list[str]
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # method -> figures
    rates: dict[str, float] = field(default_factory=dict)  # what -> texts/s
    model_confusion: list[list[int]] = field(default_factory=list)


# --- progress on stderr ------------------------------------------------------------------


@contextlib.contextmanager
def step(description: str, total: int, unit: str = "texts") -> Iterator[Callable[[int], None]]:
    """Progress of one long step on stderr: a bar on a terminal, two lines otherwise."""
    started = time.perf_counter()
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        # Two refreshes a second: the bar's thread shares the one pinned core.
        with Progress(*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=Console(stderr=True), transient=True,
                      refresh_per_second=2) as progress:
            task = progress.add_task(description, total=total)
            yield lambda n: progress.advance(task, n)
    else:
        print(f"{description} ({total} {unit})…", file=sys.stderr, flush=True)
        yield lambda n: None
    print(f"  {description}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


# --- the methods ---------------------------------------------------------------------------


def run_analyzer(
    analyzer: Analyzer, texts: Sequence[str], lang: str, description: str
) -> tuple[list[dict[str, float]], list[Any], float]:
    """(scores, embeddings, seconds spent inside ``analyze``) over ``texts`` in chunks."""
    scores: list[dict[str, float]] = []
    embeddings: list[Any] = []
    seconds = 0.0
    with step(description, len(texts)) as advance:
        for start in range(0, len(texts), CHUNK):
            chunk = texts[start : start + CHUNK]
            began = time.perf_counter()
            results = analyzer.analyze(chunk, languages=LANGUAGES, hints=[lang] * len(chunk))
            seconds += time.perf_counter() - began
            scores.extend(result.scores for result in results)
            embeddings.extend(result.embedding for result in results)
            advance(len(chunk))
    return scores, embeddings, seconds


def veilleur_label(scores: dict[str, float], labels: Sequence[str]) -> str:
    """The label among ``labels``: for two classes, P(negative) against P(positive)."""
    if tuple(labels) == BINARY:
        return "positive" if scores["positive"] >= scores["negative"] else "negative"
    return max(labels, key=lambda label: scores[label])


def vader_analyzer(lang: str) -> Any:
    """A fresh VADER (English) or vader-fr (French) analyzer."""
    if lang == "fr":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fuzzywuzzy's missing C speed-up warning
            from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer
    else:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    return SentimentIntensityAnalyzer()


def vader_label(compound: float, labels: Sequence[str]) -> str:
    if tuple(labels) == BINARY:
        return "positive" if compound >= 0 else "negative"
    if compound >= 0.05:
        return "positive"
    if compound <= -0.05:
        return "negative"
    return "neutral"


def run_vader(
    texts: Sequence[str], lang: str, labels: Sequence[str], description: str
) -> tuple[list[str], float]:
    analyzer = vader_analyzer(lang)
    predicted = []
    began = time.perf_counter()
    with step(description, len(texts)) as advance:
        for start in range(0, len(texts), CHUNK):
            for text in texts[start : start + CHUNK]:
                predicted.append(vader_label(analyzer.polarity_scores(text)["compound"], labels))
            advance(min(CHUNK, len(texts) - start))
    return predicted, time.perf_counter() - began


def figures(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[
    str, float
]:
    return {"accuracy": accuracy(truth, predicted), "macro_f1": macro_f1(truth, predicted, labels)}


# --- one data set --------------------------------------------------------------------------


def spec_for(dataset: Dataset) -> SetSpec:
    """The issue's spec for a known file; otherwise language and labels from the data."""
    if dataset.name in KNOWN:
        return KNOWN[dataset.name]
    langs = Counter(example.lang for example in dataset.examples if example.lang)
    lang = langs.most_common(1)[0][0] if langs else "en"
    present = {example.label for example in dataset.examples}
    return SetSpec(lang, BINARY if "neutral" not in present else LABELS)


def load_sets(data_dir: Path, limit: int | None) -> list[EvalSet]:
    found = sorted(p for p in data_dir.iterdir() if p.suffix in (".csv", ".jsonl"))
    order = {name: i for i, name in enumerate(KNOWN)}
    found.sort(key=lambda p: (order.get(p.name, len(order)), p.name))
    sets = []
    for path in found:
        dataset = load_dataset(path)
        examples = dataset.examples
        if limit is not None and limit < len(examples):
            # A seeded sample, not the first N: some files are sorted by label.
            keep = sorted(random.Random(SEED).sample(range(len(examples)), limit))
            examples = [examples[i] for i in keep]
        sets.append(EvalSet(name=dataset.name, spec=spec_for(dataset),
                            texts=[example.text for example in examples],
                            truth=[example.label for example in examples]))
    return sets


def evaluate(item: EvalSet) -> None:
    """Accuracy and macro-F1 of the three methods on one set (the shared analyzers)."""
    spec = item.spec
    for mode in ("model", "lexicon"):
        scores, _, _ = run_analyzer(
            shipped_analyzer(mode), item.texts, spec.lang, f"{item.name}: {mode} mode")
        predicted = [veilleur_label(row, spec.labels) for row in scores]
        item.scores[mode] = figures(item.truth, predicted, spec.labels)
        if mode == "model":
            item.model_confusion = confusion(item.truth, predicted, spec.labels)
    name = "vader-fr" if spec.lang == "fr" else "VADER"
    predicted, seconds = run_vader(item.texts, spec.lang, spec.labels, f"{item.name}: {name}")
    item.scores["vader"] = figures(item.truth, predicted, spec.labels)
    item.rates["vader"] = len(item.texts) / seconds


def measure_throughput(item: EvalSet) -> None:
    """texts/s on cold caches (fresh models), then on a repeat pass (all cache hits)."""
    texts, lang = item.texts, item.spec.lang
    fresh_model = Analyzer(SentimentModel(load_shipped_head("model")))
    _, _, seconds = run_analyzer(fresh_model, texts, lang, f"{item.name}: model, cold")
    item.rates["model"] = len(texts) / seconds
    _, _, seconds = run_analyzer(fresh_model, texts, lang, f"{item.name}: model, repeat")
    item.rates["model_repeat"] = len(texts) / seconds
    fresh_lexicon = Analyzer(SentimentModel(load_shipped_head("lexicon")))
    _, _, seconds = run_analyzer(fresh_lexicon, texts, lang, f"{item.name}: lexicon, cold")
    item.rates["lexicon"] = len(texts) / seconds
    began = time.perf_counter()
    for text in texts:
        detect_language(text, LANGUAGES)
    item.rates["langid"] = len(texts) / (time.perf_counter() - began)


# --- accurate mode (--accurate N) -------------------------------------------------------


def accurate_on_samples(sets: list[EvalSet], n: int) -> dict[str, dict[str, float]]:
    """The accurate mode beside the model mode on a seeded sample of ``n`` texts per set.

    A sample, because multilingual-e5-small runs at about 10 texts/s on one core.
    """
    out: dict[str, dict[str, float]] = {}
    accurate = Analyzer(SentimentModel(load_shipped_head("accurate")))
    accurate.analyze(["warm-up"], languages=LANGUAGES)
    for item in sets:
        keep = sorted(random.Random(SEED).sample(range(len(item.texts)), min(n, len(item.texts))))
        texts = [item.texts[i] for i in keep]
        truth = [item.truth[i] for i in keep]
        found: dict[str, float] = {"n": len(texts)}
        for mode, analyzer in (("model", shipped_analyzer("model")), ("accurate", accurate)):
            scores, _, seconds = run_analyzer(analyzer, texts, item.spec.lang,
                                              f"{item.name}: {mode} mode, sample")
            predicted = [veilleur_label(row, item.spec.labels) for row in scores]
            got = figures(truth, predicted, item.spec.labels)
            found[f"{mode}_macro_f1"] = got["macro_f1"]
            found[f"{mode}_accuracy"] = got["accuracy"]
            if mode == "accurate":
                found["accurate_texts_per_second"] = len(texts) / seconds
        out[item.name] = found
    return out


# --- research head (--cv-research) --------------------------------------------------------


def research_features(item: EvalSet) -> np.ndarray[Any, Any]:
    """USE embedding + cues, built as ``train.train_heads`` and the product build them."""
    embedder = default_embedder()
    rows = []
    with step(f"{item.name}: embeddings for the research head", len(item.texts)) as advance:
        for start in range(0, len(item.texts), CHUNK):
            chunk = item.texts[start : start + CHUNK]
            rows.append(embedder.embed(chunk))
            advance(len(chunk))
    embeddings = np.vstack(rows)
    langs = [item.spec.lang] * len(item.texts)
    return features_for(f"{embedder.name}+cues", item.texts, langs, embeddings)


def fit_research(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> LinearHead:
    return fit_head(x, y, features=f"{default_embedder().name}+cues", l2=DEFAULT_L2)


def research(sets: list[EvalSet]) -> dict[str, dict[str, float]]:
    """Cross-validated figures on UMSAB and transfer figures on the other sets."""
    by_name = {item.name: item for item in sets}
    if not all(name in by_name for name in UMSAB):
        print("--cv-research needs both UMSAB files; skipped", file=sys.stderr)
        return {}
    x = {item.name: research_features(item) for item in sets}
    y = {name: label_indices(by_name[name].truth) for name in UMSAB}
    out: dict[str, dict[str, float]] = {}
    for name in UMSAB:
        (other,) = (n for n in UMSAB if n != name)
        predicted = np.zeros(len(y[name]), dtype=np.int64)
        fold_list = folds(y[name])
        with step(f"{name}: 5-fold research head", len(fold_list), "folds") as advance:
            for held_out in fold_list:
                train = np.setdiff1d(np.arange(len(y[name])), held_out)
                head = fit_research(np.vstack([x[other], x[name][train]]),
                                    np.concatenate([y[other], y[name][train]]))
                predicted[held_out] = head.logits(x[name][held_out]).argmax(axis=1)
                advance(1)
        item = by_name[name]
        out[name] = figures(item.truth, [LABELS[i] for i in predicted], item.spec.labels)
        out[name]["cross_validated"] = 1.0
    with step("research head on all of UMSAB", 1, "fit") as advance:
        head = fit_research(np.vstack([x[n] for n in UMSAB]), np.concatenate([y[n] for n in UMSAB]))
        advance(1)
    for item in sets:
        if item.name in UMSAB:
            continue
        probabilities = head.predict_proba(x[item.name])
        predicted_labels = [
            veilleur_label(dict(zip(LABELS, (float(p) for p in row), strict=True)),
                           item.spec.labels)
            for row in probabilities
        ]
        out[item.name] = figures(item.truth, predicted_labels, item.spec.labels)
        out[item.name]["cross_validated"] = 0.0
    return out


# --- report --------------------------------------------------------------------------------


def target_text(spec: SetSpec) -> str:
    return f"≥ {spec.target:.2f}" if spec.target is not None else "–"


def print_accurate(sets: list[EvalSet], found: dict[str, dict[str, float]]) -> None:
    print()
    print("Accurate mode (multilingual-e5-small + cues) beside the model mode, on a seeded "
          "sample per set")
    print()
    print("| set | sample | model acc | model F1 | accurate acc | accurate F1 | accurate texts/s "
          "| target F1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for item in sets:
        row = found[item.name]
        print(f"| {item.name} | {row['n']:.0f} | {row['model_accuracy']:.3f} | "
              f"{row['model_macro_f1']:.3f} | {row['accurate_accuracy']:.3f} | "
              f"{row['accurate_macro_f1']:.3f} | {row['accurate_texts_per_second']:.1f} | "
              f"{target_text(item.spec)} |")


def print_report(sets: list[EvalSet], header: list[str],
                 research_figures: dict[str, dict[str, float]]) -> None:
    print("\n".join(header))
    print()
    print("Accuracy and macro-F1 (model and lexicon: Veilleur's shipped heads; "
          "VADER: vaderSentiment on EN sets, vader-fr on FR sets)")
    print()
    print("| set | n | classes | model acc | model F1 | lexicon acc | lexicon F1 | VADER acc "
          "| VADER F1 | target F1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for item in sets:
        cells = [item.name, str(len(item.texts)), str(len(item.spec.labels))]
        for method in ("model", "lexicon", "vader"):
            cells += [f"{item.scores[method]['accuracy']:.3f}",
                      f"{item.scores[method]['macro_f1']:.3f}"]
        cells.append(target_text(item.spec))
        print("| " + " | ".join(cells) + " |")
    print()
    print("Throughput, texts/s on one core (fresh models; model loading not counted)")
    print()
    print("| set | texts | mean chars | model, cold | lexicon, cold | model, repeat (cache hits) "
          "| VADER / vader-fr | language ID alone |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for item in sets:
        mean_chars = sum(len(text) for text in item.texts) / max(len(item.texts), 1)
        rates = item.rates
        print(f"| {item.name} | {len(item.texts)} | {mean_chars:.0f} | {rates['model']:,.0f} | "
              f"{rates['lexicon']:,.0f} | {rates['model_repeat']:,.0f} | {rates['vader']:,.0f} | "
              f"{rates['langid']:,.0f} |")
    total = sum(len(item.texts) for item in sets)
    pooled = {what: total / sum(len(item.texts) / item.rates[what] for item in sets)
              for what in ("model", "lexicon", "model_repeat", "vader", "langid")}
    print(f"| all | {total} | | {pooled['model']:,.0f} | {pooled['lexicon']:,.0f} | "
          f"{pooled['model_repeat']:,.0f} | {pooled['vader']:,.0f} | {pooled['langid']:,.0f} |")
    print()
    print("Model mode confusion (rows: true, columns: predicted, in label order)")
    for item in sets:
        print(f"- {item.name} {list(item.spec.labels)}: {item.model_confusion}")
    if research_figures:
        print()
        print(f"{RESEARCH}: fit_head over USE + cues, L2 {DEFAULT_L2:g} as in train.py")
        print()
        print("| set | n | how | acc | macro-F1 | shipped model F1 | target F1 |")
        print("|---|---:|---|---:|---:|---:|---:|")
        for item in sets:
            if item.name not in research_figures:
                continue
            found = research_figures[item.name]
            how = ("5-fold CV (+ the other UMSAB language)" if found["cross_validated"]
                   else "trained on all UMSAB")
            print(f"| {item.name} | {len(item.texts)} | {how} | {found['accuracy']:.3f} | "
                  f"{found['macro_f1']:.3f} | {item.scores['model']['macro_f1']:.3f} | "
                  f"{target_text(item.spec)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None,
                        help="a seeded sample of N texts per set (default: all)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--cv-research", action="store_true",
                        help="also train and score a research-only head on UMSAB")
    parser.add_argument("--accurate", type=int, default=0, metavar="N",
                        help="also score the accurate mode on a sample of N texts per set "
                             "(needs veilleur[accurate]; ~10 texts/s)")
    args = parser.parse_args()
    if not args.data_dir.is_dir():
        sys.exit(f"data not found in {args.data_dir} (pass --data-dir)")
    machine = describe_machine()  # before pinning, which would hide the other CPUs
    pinned = pin_to_one_core()
    sets = load_sets(args.data_dir, args.limit)
    if not sets:
        sys.exit(f"no .csv or .jsonl files in {args.data_dir}")
    began = time.perf_counter()
    # Load the encoder and the language identifier once, outside the timings.
    default_embedder().embed(["warm-up"])
    detect_language("warm-up", LANGUAGES)
    heads = {mode: load_shipped_head(mode) for mode in ("model", "lexicon")}
    loaded = time.perf_counter() - began
    for item in sets:
        evaluate(item)
    for item in sets:
        measure_throughput(item)
    research_figures = research(sets) if args.cv_research else {}
    accurate_figures = accurate_on_samples(sets, args.accurate) if args.accurate else {}
    command = " ".join(["python", "benchmarks/sentiment.py", *sys.argv[1:]])
    header = [
        f"machine: {machine}; {pinned}; OMP_NUM_THREADS=1",
        f"command: {command}",
        f"data: {args.data_dir}",
        "heads: " + "; ".join(f"{head.meta.get('version', mode)} ({head.features})"
                              for mode, head in heads.items()),
        f"model loading: {loaded:.1f} s (once per process, not in the texts/s figures)",
    ]
    print_report(sets, header, research_figures)
    if accurate_figures:
        print_accurate(sets, accurate_figures)
    if args.json is not None:
        report = {
            "machine": machine, "pinned": pinned, "command": command,
            "heads": {mode: head.meta for mode, head in heads.items()},
            "sets": [{"name": item.name, "n": len(item.texts), "lang": item.spec.lang,
                      "labels": list(item.spec.labels), "target_macro_f1": item.spec.target,
                      "baseline": item.spec.baseline, "scores": item.scores,
                      "texts_per_second": item.rates, "model_confusion": item.model_confusion}
                     for item in sets],
            "research": {"label": RESEARCH, "l2": DEFAULT_L2, "sets": research_figures}
            if research_figures else None,
            "accurate": accurate_figures or None,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
