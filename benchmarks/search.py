"""Search benchmark: the first page of results over 1,000,000 mentions on SQLite (FTS5).

Builds a fresh data directory (``veilleur migrate``), two workspaces and a million
seeded French/English mentions generated from templates and a vocabulary (90% in
the searched workspace), inserted with ``executemany`` through Django's connection,
so the FTS5 triggers index every row as the pipeline's inserts would. About 2% of
the mentions are back-dated (late imports), so ids and publication times disagree
the way they do in real data. Then it times ``search_mentions`` (the code path of
the UI and the API) for the first page of 50, newest first: a common term, a rare
term, a phrase and a prefix, without and with the total count, plus relevance order
and the mentions page's queryset path. Reports the median of the runs, the database
size, the build time and the machine.

    python benchmarks/search.py [--mentions 1000000] [--runs 7] [--keep]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from machine import describe as describe_machine  # benchmarks/machine.py

SEED = 20250601
PAGE = 50
BATCH = 10_000
BRANDS = ["Nuvia", "Nuvia Fibre", "NuviaBox", "Nuvia Mobile"]
CITIES = ["Lyon", "Paris", "Lille", "Nantes", "Marseille", "Bordeaux", "Leeds", "Manchester",
          "London", "Bristol", "Toulouse", "Rennes"]
FR_SENTENCES = [
    "Encore une coupure d'internet chez {b} à {c} ce matin",
    "Le service client de {b} ne répond plus depuis {n} jours",
    "Franchement {b} a réglé mon problème de connexion en dix minutes",
    "Trois jours sans internet avec {b}, c'est inadmissible",
    "Nouvelle hausse de prix chez {b} sans prévenir les abonnés",
    "Installation de la box {b} faite aujourd'hui à {c}",
    "Quelqu'un a des nouvelles de la panne {b} à {c} ?",
    "Merci au technicien {b}, très professionnel",
    "J'attends toujours le remboursement promis par {b}",
    "{b} m'a remboursé les frais après ma réclamation",
    "Le débit internet de {b} est catastrophique le soir",
    "Je vais résilier mon abonnement {b}, le service client est injoignable",
    "La facture {b} de ce mois est incompréhensible",
    "Bravo à l'équipe {b} de {c} pour la réactivité",
]
EN_SENTENCES = [
    "Another internet outage with {b} in {c} this morning",
    "{b} support has not answered in {n} days",
    "Honestly {b} fixed my connection in ten minutes",
    "Three days without internet thanks to {b}",
    "{b} raised prices again without notice",
    "Just got my {b} router installed in {c}",
    "Anyone else seeing the {b} outage in {c}?",
    "Still waiting for the refund {b} promised",
    "{b} refunded the fees after my complaint",
    "The {b} internet speed is terrible every evening",
    "Thinking of cancelling {b}, customer service never picks up",
    "Shout-out to the {b} engineer in {c}, brilliant",
]
FR_TAILS = ["C'est inadmissible.", "Je suis dégoûté.", "Rien à redire.", "Bref, déçu.",
            "#panne #fibre", "On attend un geste commercial.", "Merci l'équipe !",
            "L'hôtel d'à côté a la même galère.", "Quelle honte."]
EN_TAILS = ["Unacceptable.", "Disappointed.", "No complaints.", "#outage #broadband",
            "Still waiting for compensation.", "Great job team!", "What a joke."]
RARE = "zeppelin"  # in about one mention in 5,000
QUERIES = {
    "common term": "internet",
    "rare term": RARE,
    "phrase": '"service client"',
    "prefix": "rembours*",
}


def _filler(rng: random.Random) -> list[str]:
    # A Zipf-like long tail of pseudo-words, so the vocabulary is not only template words.
    syllables = ["ba", "ce", "di", "fo", "gu", "la", "me", "ni", "po", "ru", "sa", "te", "vo",
                 "an", "on", "er", "is", "ou", "ré", "té", "ly", "xo"]
    return ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
            for _ in range(20_000)]


def mentions(count: int, workspaces: tuple[int, int], sources: tuple[int, int],
             columns: list[str], defaults: dict[str, Any]) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of rows (tuples in ``columns`` order), oldest first with some back-dated."""
    rng = random.Random(SEED)
    filler = _filler(rng)
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(filler))))
    start = datetime(2024, 1, 1, tzinfo=UTC)
    step = timedelta(days=365) / count
    rows: list[tuple[Any, ...]] = []
    for n in range(count):
        french = rng.random() < 0.6
        sentences, tails = (FR_SENTENCES, FR_TAILS) if french else (EN_SENTENCES, EN_TAILS)
        parts = [s.format(b=rng.choice(BRANDS), c=rng.choice(CITIES), n=rng.randint(2, 9))
                 for s in rng.sample(sentences, k=rng.randint(1, 2))]
        parts += rng.sample(tails, k=rng.randint(0, 2))
        parts.append(" ".join(rng.choices(filler, cum_weights=cumulative, k=rng.randint(3, 12))))
        if rng.random() < 0.0002:
            parts.append(f"Un {RARE} publicitaire survole le stade." if french
                         else f"A {RARE} flew over the stadium.")
        text = " ".join(parts)
        when = start + step * n + timedelta(seconds=rng.randint(-1800, 1800))
        if rng.random() < 0.02:
            when -= timedelta(days=rng.randint(1, 90))  # imported late
        mine = rng.random() < 0.9
        values = {
            **defaults,
            "workspace_id": workspaces[0] if mine else workspaces[1],
            "source_id": sources[0] if mine else sources[1],
            "external_id": f"bench-{n}",
            "url": f"https://example.com/p/{n}",
            "title": parts[0][:120] if rng.random() < 0.2 else "",
            "text": text,
            "lang": "fr" if french else "en",
            "published_at": when.isoformat(sep=" "),
            "fetched_at": when.isoformat(sep=" "),
            "content_hash": f"{n:040x}",
        }
        rows.append(tuple(values[c] for c in columns))
        if len(rows) == BATCH:
            yield rows
            rows = []
    if rows:
        yield rows


def setup_django(data: Path) -> None:
    os.environ.update({
        "VEILLEUR_DATA_DIR": str(data),
        "VEILLEUR_DATABASE_URL": f"sqlite:///{data / 'bench.sqlite3'}",
        "VEILLEUR_TASK_BACKEND": "immediate",
        "DJANGO_SETTINGS_MODULE": "veilleur.settings",
    })
    os.environ.pop("VEILLEUR_ENV_FILE", None)
    import django

    django.setup()


def column_defaults() -> tuple[list[str], dict[str, Any]]:
    """Every column of the mention table with the value Django would store by default.

    Built from the model, so columns other apps add later still get a valid value.
    """
    from django.db import connection

    from veilleur.monitoring.models import Mention

    columns, defaults = [], {}
    for field in Mention._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        defaults[field.column] = field.get_db_prep_save(field.get_default(), connection)
    return columns, defaults


def build(count: int) -> tuple[Any, float]:
    """Migrate, create the workspaces and insert ``count`` mentions; (workspace, seconds)."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from veilleur.accounts.services import create_workspace
    from veilleur.monitoring.models import Source

    call_command("migrate", verbosity=0)
    bench = create_workspace("Bench", slug="bench")
    other = create_workspace("Other", slug="other")
    sources = (Source.objects.create(workspace=bench, name="Bench", kind="file").pk,
               Source.objects.create(workspace=other, name="Other", kind="file").pk)
    columns, defaults = column_defaults()
    sql = (f"INSERT INTO monitoring_mention ({', '.join(columns)})"  # noqa: S608 - constants
           f" VALUES ({', '.join(['%s'] * len(columns))})")
    started = time.perf_counter()
    with Progress(*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn()) as progress:
        task = progress.add_task("inserting mentions", total=count)
        for rows in mentions(count, (bench.pk, other.pk), sources, columns, defaults):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, rows)
            progress.advance(task, len(rows))
    inserted = time.perf_counter() - started
    with connection.cursor() as cursor:
        # What an operator would run after a bulk load; searching works without it.
        cursor.execute("INSERT INTO search_mention_fts(search_mention_fts) VALUES ('optimize')")
        cursor.execute("ANALYZE")
    return bench, inserted


def timed(action: Callable[[], Any], runs: int) -> tuple[float, Any]:
    action()  # warm the page cache: a server answering searches has it warm
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="veilleur-bench-search-"))
    setup_django(data)
    from veilleur.monitoring.models import Mention
    from veilleur.monitoring.queries import MentionFilter, filter_mentions
    from veilleur.search.services import search_mentions

    try:
        workspace, seconds = build(args.mentions)
        db = data / "bench.sqlite3"
        size = sum(p.stat().st_size for p in data.glob("bench.sqlite3*"))
        print(f"built {args.mentions:,} mentions in {seconds:.1f} s "
              f"({args.mentions / seconds:,.0f} rows/s, FTS5 triggers included); "
              f"database {size / 2**20:,.0f} MiB ({db})")
        print(f"\nfirst page of {PAGE}, newest first, median of {args.runs} runs (ms):")
        print(f"{'query':<14} {'text':<18} {'matches':>9} {'page':>8} {'+count':>8} "
              f"{'relevance':>10}")
        for label, text in QUERIES.items():
            page_ms, page = timed(
                lambda t=text: search_mentions(workspace, t, limit=PAGE, count=False), args.runs)
            count_ms, counted = timed(
                lambda t=text: search_mentions(workspace, t, limit=PAGE), args.runs)
            best_ms, _ = timed(
                lambda t=text: search_mentions(workspace, t, limit=PAGE, sort="relevance",
                                               count=False), args.runs)
            assert len(page.ids) == min(PAGE, counted.total or 0)
            print(f"{label:<14} {text:<18} {counted.total:>9,} {page_ms:>8.1f} {count_ms:>8.1f} "
                  f"{best_ms:>10.1f}")

        def page_view() -> list[int]:
            # What the mentions page does: the filter queryset, a count and 50 rows.
            qs = filter_mentions(Mention.objects.for_workspace(workspace),
                                 MentionFilter(text=QUERIES["common term"]))
            qs.count()
            return list(qs.order_by("-published_at", "-id").values_list("id", flat=True)[:PAGE])

        view_ms, _ = timed(page_view, max(3, args.runs // 2))
        print(f"\nmentions page queryset path (count + first page), common term: {view_ms:.0f} ms")
        print(f"machine: {describe_machine()}")
    finally:
        if args.keep:
            print(f"kept {data}")
        else:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
