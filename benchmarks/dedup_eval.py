"""Precision and recall of near-duplicate grouping (stories) on real tweets.

Reads ``airline-dev.csv`` (Twitter US Airline Sentiment, 10k tweets with retweets and
near-identical complaints) from ``../shared/data/sentiment/`` (never shipped), then:

1. **Candidate pairs**: every pair of tweets whose word sets (lower-cased, @handles
   and URLs removed) have a Jaccard similarity >= 0.3, found exactly with prefix
   filtering, over all airlines; plus a seeded random sample of other pairs, to check
   that the candidate step misses no near-duplicate.
2. **Labels**, by a rule independent of MinHash and shingles: two tweets are
   near-duplicates when, after removing URLs and @handles, lower-casing and
   collapsing spaces, both keep at least 20 characters and their edit similarity
   (difflib's ``ratio``: 2 * matching characters / total length) is >= 0.9, either
   on the whole texts or on the quoted part of a retweet (after "RT @x:", or between
   '"@x:' and the closing quotation mark).
3. **Grouping**: the product's :class:`~veilleur.analysis.story_index.StoryIndex` over all
   tweets in timestamp order (7-day window), as the pipeline does.
4. **Pairwise metrics**: a predicted pair is two tweets in the same story. Every
   predicted pair is labelled by the rule (so precision counts all of them); recall is
   over the rule-positive pairs among the candidates. Also the number of stories.

    python benchmarks/dedup_eval.py [--csv PATH] [--sweep] [--grid] [--show-pairs N]
                                     [--show-disagreements N]
"""

from __future__ import annotations

import argparse
import csv
import difflib
import itertools
import math
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from veilleur.analysis.dedup import (  # noqa: E402
    DEFAULT_PARAMS,
    DedupParams,
    content_hash,
)
from veilleur.analysis.story_index import StoryIndex  # noqa: E402

DEFAULT_CSV = ROOT.parent / "shared" / "data" / "sentiment" / "airline-dev.csv"
CANDIDATE_JACCARD = 0.3
LABEL_RATIO = 0.9
LABEL_MIN_CHARS = 20
RANDOM_PAIRS = 20_000
SEED = 7

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"[.]?@\w+")
_RT = re.compile(r"\b[RM]T\s*:?\s*@\w+\s*:?|(?P<quote>[\"“])@\w+:", re.IGNORECASE)
_CLOSING = re.compile(r"[\"”]")
_TOKEN = re.compile(r"\w+")


@dataclass
class Tweet:
    n: int
    text: str
    at: datetime
    airline: str
    plain: str  # the labelling rule's normal form
    quoted: str  # the same, of the part after the last retweet marker ("" if none)
    tokens: frozenset[str]


def plain(text: str) -> str:
    text = _HANDLE.sub(" ", _URL.sub(" ", text)).lower()
    return " ".join(text.replace("&amp;", "&").split())


def load(path: Path) -> list[Tweet]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    tweets = []
    for row in rows:
        text = row["text"]
        at = datetime.strptime(row["tweet_created"], "%Y-%m-%d %H:%M:%S %z")
        markers = list(_RT.finditer(text))
        quoted = ""
        if markers:
            quoted = text[markers[-1].end() :]
            if markers[-1].group("quote"):  # '"@x: text" comment': the quote ends at '"'
                quoted = _CLOSING.split(quoted, maxsplit=1)[0]
            quoted = plain(quoted)
        p = plain(text)
        tweets.append(Tweet(0, text, at, row["airline"], p, quoted,
                            frozenset(_TOKEN.findall(p))))
    tweets.sort(key=lambda t: t.at)
    for n, tweet in enumerate(tweets):
        tweet.n = n
    return tweets


def is_near_duplicate(a: Tweet, b: Tweet) -> bool:
    """The labelling rule (see the module docstring)."""
    forms_a = [f for f in (a.plain, a.quoted) if len(f) >= LABEL_MIN_CHARS]
    forms_b = [f for f in (b.plain, b.quoted) if len(f) >= LABEL_MIN_CHARS]
    for x, y in itertools.product(forms_a, forms_b):
        matcher = difflib.SequenceMatcher(None, x, y, autojunk=False)
        if matcher.real_quick_ratio() >= LABEL_RATIO and matcher.quick_ratio() >= LABEL_RATIO \
                and matcher.ratio() >= LABEL_RATIO:
            return True
    return False


def candidate_pairs(tweets: list[Tweet], threshold: float) -> set[tuple[int, int]]:
    """All pairs with word-set Jaccard >= threshold (prefix filtering: exact, not sampled)."""
    frequency = Counter(token for t in tweets for token in t.tokens)
    order = {tok: i for i, (tok, _) in enumerate(sorted(frequency.items(),
                                                        key=lambda kv: (kv[1], kv[0])))}
    index: dict[str, list[int]] = defaultdict(list)
    pairs: set[tuple[int, int]] = set()
    for t in tweets:
        ranked = sorted(t.tokens, key=order.__getitem__)
        if not ranked:
            continue
        prefix = ranked[: len(ranked) - math.ceil(threshold * len(ranked)) + 1]
        seen: set[int] = set()
        for token in prefix:
            for other in index[token]:
                if other in seen:
                    continue
                seen.add(other)
                u = tweets[other].tokens
                inter = len(t.tokens & u)
                if inter and inter / (len(t.tokens) + len(u) - inter) >= threshold:
                    pairs.add((other, t.n))
            index[token].append(t.n)
    return pairs


def group(tweets: list[Tweet], params: DedupParams) -> tuple[dict[int, object], float]:
    """The product's grouping: exact copies first (same content hash, as the pipeline
    counts copies in one source: here all tweets are one source), then near-duplicates
    through the story index."""
    window = timedelta(days=7)
    index: StoryIndex[int] = StoryIndex(params, window=window)
    started = time.perf_counter()
    labels: dict[int, object] = {}
    first_copy: dict[str, Tweet] = {}
    for t in tweets:
        signature = params.signature(t.text)
        # As the pipeline: an identical text long enough for a signature is a copy.
        key = content_hash(t.text) if signature is not None else ""
        original = first_copy.get(key)
        if original is not None and t.at - original.at <= window:
            labels[t.n] = labels[original.n]
            continue
        if key:
            first_copy[key] = t
        labels[t.n] = index.group(t.n, signature, t.at)
    return labels, time.perf_counter() - started


def predicted_pairs(labels: dict[int, object]) -> set[tuple[int, int]]:
    members: dict[object, list[int]] = defaultdict(list)
    for n, label in labels.items():
        members[label].append(n)
    return {(a, b) for group_ in members.values() if len(group_) > 1
            for a, b in itertools.combinations(sorted(group_), 2)}


class Labeller:
    def __init__(self, tweets: list[Tweet]) -> None:
        self.tweets = tweets
        self.cache: dict[tuple[int, int], bool] = {}

    def __call__(self, pair: tuple[int, int]) -> bool:
        if pair not in self.cache:
            self.cache[pair] = is_near_duplicate(self.tweets[pair[0]], self.tweets[pair[1]])
        return self.cache[pair]


def evaluate(tweets, params, positives, label) -> dict[str, float]:
    labels, seconds = group(tweets, params)
    predicted = predicted_pairs(labels)
    tp = sum(1 for p in predicted if label(p))
    fp = len(predicted) - tp
    found = len(positives & predicted)
    precision = tp / len(predicted) if predicted else 1.0
    recall = found / len(positives) if positives else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    sizes = Counter(Counter(labels.values()).values())
    # Per tweet (B-cubed style): pairs weigh a story by its size squared, so one viral
    # retweet wave dominates them; averaging over tweets weighs every tweet once.
    partners: dict[int, set[int]] = defaultdict(set)
    for a, b in predicted:
        partners[a].add(b)
        partners[b].add(a)
    wanted: dict[int, set[int]] = defaultdict(set)
    for a, b in positives:
        wanted[a].add(b)
        wanted[b].add(a)
    good = {n: sum(1 for m in ps if label((min(n, m), max(n, m)))) for n, ps in partners.items()}
    tweet_p = sum(good[n] / len(ps) for n, ps in partners.items()) / len(partners) if partners \
        else 1.0
    tweet_r = sum(len(ps & partners[n]) / len(ps) for n, ps in wanted.items()) / len(wanted) \
        if wanted else 1.0
    return {
        "tweet_p": tweet_p, "tweet_r": tweet_r,
        "precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp,
        "fn": len(positives) - found, "stories": sum(n for s, n in sizes.items() if s > 1),
        "clusters": len(set(labels.values())), "tweets_per_s": len(tweets) / seconds,
    }


def row(name: str, m: dict[str, float]) -> str:
    return (f"{name:<34} P={m['precision']:.3f} R={m['recall']:.3f} F1={m['f1']:.3f} "
            f"per-tweet P={m['tweet_p']:.3f} R={m['tweet_r']:.3f} "
            f"TP={m['tp']:>4} FP={m['fp']:>4} FN={m['fn']:>4} stories(>=2)={m['stories']:>4} "
            f"groups={m['clusters']:>5} {m['tweets_per_s']:,.0f} tweets/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--sweep", action="store_true", help="thresholds 0.3 to 0.8")
    parser.add_argument("--grid", action="store_true",
                        help="also shingle sizes, permutations and minimum lengths")
    parser.add_argument("--show-pairs", type=int, default=0,
                        help="print N random labelled candidate pairs for a hand check")
    parser.add_argument("--show-disagreements", type=int, default=0,
                        help="print N random pairs where the rule and the product disagree")
    args = parser.parse_args()
    if not args.csv.exists():
        raise SystemExit(f"{args.csv} not found (pass --csv)")
    tweets = load(args.csv)
    label = Labeller(tweets)
    started = time.perf_counter()
    candidates = candidate_pairs(tweets, CANDIDATE_JACCARD)
    positives = {p for p in candidates if label(p)}
    print(f"{len(tweets):,} tweets; {len(candidates):,} candidate pairs (word Jaccard >= "
          f"{CANDIDATE_JACCARD}), {len(positives):,} labelled near-duplicates "
          f"({time.perf_counter() - started:.1f} s)")
    rng = random.Random(SEED)
    others = 0
    missed = 0
    while others < RANDOM_PAIRS:
        a, b = sorted(rng.sample(range(len(tweets)), 2))
        if (a, b) in candidates:
            continue
        others += 1
        missed += label((a, b))
    print(f"random non-candidate pairs: {others:,}, of which near-duplicates: {missed}")
    if args.show_pairs:
        # For a hand check of the rule: random pairs among the candidates and the pairs
        # the product groups, each with the rule's label and the product's decision.
        grouped = predicted_pairs(group(tweets, DEFAULT_PARAMS)[0])
        sample = rng.sample(sorted(candidates | grouped), args.show_pairs)
        for n, (a, b) in enumerate(sample, 1):
            print(f"--- {n} rule={'dup' if label((a, b)) else 'no'} "
                  f"grouped={'yes' if (a, b) in grouped else 'no'}\n"
                  f"  A: {tweets[a].text!r}\n  B: {tweets[b].text!r}")
    if args.show_disagreements:
        grouped = predicted_pairs(group(tweets, DEFAULT_PARAMS)[0])
        disagree = sorted({p for p in grouped if not label(p)} | (positives - grouped))
        print(f"\n{len(disagree)} pairs where the rule and the product disagree:")
        for n, (a, b) in enumerate(rng.sample(disagree, min(args.show_disagreements,
                                                            len(disagree))), 1):
            print(f"--- {n} rule={'dup' if label((a, b)) else 'no'} "
                  f"grouped={'yes' if (a, b) in grouped else 'no'}\n"
                  f"  A: {tweets[a].text!r}\n  B: {tweets[b].text!r}")
    print(f"\nchosen parameters: {DEFAULT_PARAMS}")
    print(row(f"threshold {DEFAULT_PARAMS.threshold}", evaluate(tweets, DEFAULT_PARAMS,
                                                              positives, label)))
    base = {f: getattr(DEFAULT_PARAMS, f) for f in
            ("shingle_size", "num_perm", "bands", "rows", "threshold", "min_words")}
    if args.sweep or args.grid:
        print("\nthreshold sweep (other parameters as chosen):")
        for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
            params = DedupParams(**{**base, "threshold": threshold})
            print(row(f"threshold {threshold}", evaluate(tweets, params, positives, label)))
    if args.grid:
        params = DedupParams(**{**base, "anchored": False})
        print(row("single-link (no anchor check)", evaluate(tweets, params, positives, label)))
        print("\ngrid (shingle size k, permutations/bands x rows, minimum words, threshold):")
        for k, (perm, bands, rows), min_words, threshold in itertools.product(
            (1, 2, 3), ((64, 16, 4), (128, 32, 4)), (4, 5), (0.5, 0.6, 0.7),
        ):
            params = DedupParams(shingle_size=k, num_perm=perm, bands=bands, rows=rows,
                                 min_words=min_words, threshold=threshold)
            name = f"k={k} {perm}={bands}x{rows} min={min_words} t={threshold}"
            print(row(name, evaluate(tweets, params, positives, label)))


if __name__ == "__main__":
    main()
