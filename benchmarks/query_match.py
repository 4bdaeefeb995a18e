"""Watch-query matching benchmark: mentions per second against 100 and 1,000 queries.

Reads real short texts (the airline tweets' ``text`` column and the UMSAB French and
English dev sets; they are read from the shared data folder, never copied here),
gives them seeded fields (language, source, author, site, country, followers), and
matches every mention against a set of realistic watch queries with
:class:`~veilleur.analysis.query.WatchMatcher`: brands, handles and hashtags,
complaint phrases in French and English, NEAR/ONEAR, wildcards, NOT, exact case and
field filters. Each mention is tokenised inside the timed loop, as in the pipeline.

For 100 and 1,000 queries it prints mentions/s with the Aho-Corasick prefilter and
without it (every query tree evaluated), as the median of several runs, on one
core (the process is pinned to one CPU where the system allows), and the machine.
It also checks that both ways give the same matches.

    python benchmarks/query_match.py [--data DIR] [--runs 5] [--naive-mentions 3000]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from machine import describe as describe_machine  # benchmarks/machine.py
from machine import pin_to_one_core

from veilleur.analysis.query import MentionDoc, Query, WatchMatcher, compile_query

SEED = 20240611
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sentiment"

# (name as written, handle, hashtag): the airlines of the tweets, then French and
# English brands a reputation team would watch.
REAL_BRANDS = [
    ("United", "united", "unitedairlines"), ("Southwest", "SouthwestAir", "southwest"),
    ("Delta", "Delta", "delta"), ("JetBlue", "JetBlue", "jetblue"),
    ("US Airways", "USAirways", "usairways"), ("American Airlines", "AmericanAir", "aa"),
    ("Virgin America", "VirginAmerica", "virginamerica"), ("Air France", "airfrance", "airfrance"),
    ("SNCF", "SNCF", "sncf"), ("Orange", "Orange_France", "orange"), ("EDF", "EDFofficiel", "edf"),
    ("Free", "free", "freebox"), ("Bouygues Telecom", "bouyguestelecom", "bouygues"),
    ("La Poste", "laposte", "laposte"), ("Carrefour", "CarrefourFrance", "carrefour"),
    ("Renault", "renault_fr", "renault"), ("Peugeot", "peugeot", "peugeot"),
    ("TotalEnergies", "TotalEnergies", "total"), ("Amazon", "amazon", "amazon"),
    ("Apple", "Apple", "apple"), ("Netflix", "netflix", "netflix"), ("Uber", "Uber", "uber"),
    ("Airbnb", "Airbnb", "airbnb"), ("Ikea", "IKEAFrance", "ikea"),
    ("Decathlon", "Decathlon", "decathlon"), ("Fnac", "Fnac", "fnac"), ("Darty", "Darty", "darty"),
    ("Leclerc", "ELeclerc", "leclerc"), ("Lidl", "lidlfrance", "lidl"), ("RATP", "RATP", "ratp"),
    ("Engie", "ENGIEgroup", "engie"), ("BNP Paribas", "BNPParibas", "bnp"), ("AXA", "AXA", "axa"),
    ("easyJet", "easyJet", "easyjet"), ("Ryanair", "Ryanair", "ryanair"),
    ("Lufthansa", "lufthansa", "lufthansa"), ("British Airways", "British_Airways", "ba"),
    ("KLM", "KLM", "klm"), ("Emirates", "emirates", "emirates"), ("Hertz", "Hertz", "hertz"),
]
SYLLABLES = ["nu", "via", "fi", "bre", "lu", "ne", "ka", "tor", "mo", "ra", "zen", "pli", "do",
             "var", "sel", "qui", "ta", "bo", "ri", "lex"]
TEMPLATES = [
    "{b} OR @{h} OR #{t}",
    '({b} OR @{h}) (delay* OR cancel* OR "lost luggage" OR "lost bag*")',
    '({b} OR @{h}) NEAR/5 (rude OR "customer service" OR hold OR waiting)',
    '{b} (rembours* OR "toujours pas" OR arnaque OR scandale) lang:fr',
    "({b} OR #{t}) -promo -concours -giveaway",
    "{b} ONEAR/3 (panne OR coupure OR outage OR down)",
    '"{w} refund"~3 OR "{w} remboursement"~3',
    "@{h} followers:>10000",
    '({b} OR @{h}) (boycott OR #boycott{t} OR "never again" OR "plus jamais") -site:{t}.com',
    "title:{b} OR ({b} source:news)",
    '{b} (dégoûté OR déçu OR "service client" OR injoignable) country:fr',
    "{{{W}}} (strike OR grève OR grev*)",
    "NOT (spam OR bot*) {b} lang:en",
    '({b} OR @{h}) (thank* OR merci OR bravo OR "well done")',
    '"{w} app" NEAR/4 (crash* OR bug* OR "ne marche pas")',
]
SOURCES = ["twitter", "mastodon", "bluesky", "news", "reddit", "rss", "review"]
SITES = ["twitter.com", "lemonde.fr", "www.bbc.co.uk", "news.example.com", "forum.example.org",
         "reddit.com"]
COUNTRIES = ["fr", "us", "gb", "be", "ca", "ch"]


def load_texts(data: Path) -> list[tuple[str, str]]:
    """(text, language) pairs from the shared data sets."""
    texts: list[tuple[str, str]] = []
    with (data / "airline-dev.csv").open(encoding="utf-8", newline="") as handle:
        texts.extend((row["text"], "en") for row in csv.DictReader(handle) if row.get("text"))
    for name, lang in (("umsab-fr-dev.jsonl", "fr"), ("umsab-en-dev.jsonl", "en")):
        with (data / name).open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if row.get("text"):
                    texts.append((row["text"], lang))
    return texts


def mentions(texts: list[tuple[str, str]], rng: random.Random) -> list[MentionDoc]:
    """The texts as mentions with seeded, plausible fields."""
    return [
        MentionDoc(
            text=text, lang=lang, source=rng.choice(SOURCES),
            author=f"@user{rng.randrange(5000)}", site=rng.choice(SITES),
            country=rng.choice(COUNTRIES),
            followers=int(rng.paretovariate(1.2) * 50) if rng.random() < 0.9 else None,
        )
        for text, lang in texts
    ]


def brands(count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """The real brands, then made-up ones (agencies watch many small brands)."""
    out = list(REAL_BRANDS)
    while len(out) < count:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
        if name not in {b[0] for b in out}:
            out.append((name, name.lower(), name.lower()))
    return out[:count]


def queries(count: int, rng: random.Random) -> dict[int, Query]:
    """``count`` compiled queries: every template over enough brands, seeded order."""
    pool = brands(count // len(TEMPLATES) + 1, rng)
    sources = []
    for name, handle, tag in pool:
        words = name.split()
        term = f'"{name}"' if len(words) > 1 else name
        for template in TEMPLATES:
            sources.append(template.format(b=term, h=handle, t=tag, w=words[-1].lower(),
                                           W=name))
    rng.shuffle(sources)
    # the real brands' queries first, so that 100 queries still find real matches
    sources.sort(key=lambda s: not any(b[0] in s or b[1] in s for b in REAL_BRANDS[:20]))
    return {n: compile_query(source) for n, source in enumerate(sources[:count])}


def rate(run: Callable[[MentionDoc], set[int]], docs: list[MentionDoc], runs: int) -> float:
    """Median mentions per second over ``runs`` passes."""
    rates = []
    for _ in range(runs):
        started = time.perf_counter()
        for doc in docs:
            run(doc)
        rates.append(len(docs) / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--naive-runs", type=int, default=3)
    parser.add_argument("--naive-mentions", type=int, default=3000,
                        help="mentions for the slow, unfiltered measurement")
    parser.add_argument("--sizes", default="100,1000")
    args = parser.parse_args()
    if not (args.data / "airline-dev.csv").is_file():
        sys.exit(f"data not found in {args.data} (pass --data)")
    rng = random.Random(SEED)
    docs = mentions(load_texts(args.data), rng)
    rng.shuffle(docs)
    print(f"machine: {describe_machine()}; {pin_to_one_core()}")
    print(f"mentions: {len(docs)} real texts; median of {args.runs} runs "
          f"({args.naive_runs} runs on {args.naive_mentions} mentions without prefilter)")
    print(f"{'queries':>8} {'prefilter':>12} {'no prefilter':>13} {'speed-up':>9} "
          f"{'evaluated':>10} {'matches':>8}")
    for size in (int(s) for s in args.sizes.split(",")):
        matcher = WatchMatcher(queries(size, random.Random(SEED + size)))
        subset = docs[:args.naive_mentions]
        for doc in subset:  # the prefilter never changes the result
            if matcher.match(doc) != matcher.match_all(doc):
                sys.exit(f"prefilter changed the result for {doc.text!r}")
        evaluated = sum(len(matcher.candidates(doc)) for doc in subset) / (len(subset) * size)
        matched = sum(len(matcher.match(doc)) for doc in docs)
        fast = rate(matcher.match, docs, args.runs)
        slow = rate(matcher.match_all, subset, args.naive_runs)
        print(f"{size:>8} {fast:>10,.0f}/s {slow:>11,.0f}/s {fast / slow:>8.1f}x "
              f"{evaluated:>9.1%} {matched:>8}")
    print("evaluated: share of (query, mention) pairs whose tree the prefilter let through;"
          " matches: (query, mention) pairs that matched, over all mentions")


if __name__ == "__main__":
    main()
