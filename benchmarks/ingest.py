"""Ingest benchmark: ``veilleur import`` of a 100,000-row export into a fresh SQLite database.

Generates a seeded, Brandwatch-shaped CSV (report preamble, FR/EN text, authors,
platforms, dates), then for each run: a new data directory, ``veilleur migrate``,
a workspace, and ``veilleur import`` in a subprocess, so the figure covers the
real code path (connector, normalisation, dedup lookups, author upserts, bulk
inserts, watch links, cursor commits). Prints rows/s (median of the runs), the
import process's peak RSS and the machine.

    python benchmarks/ingest.py [--rows 100000] [--runs 3] [--batch-size 1000]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from machine import describe as describe_machine  # benchmarks/machine.py

SEED = 20240305
BRANDS = ["Nuvia", "Nuvia Fibre", "NuviaBox"]
FR_OPENINGS = [
    "Encore une coupure chez {b} ce matin", "Le service client de {b} ne répond plus",
    "Franchement, {b} a réglé mon problème en dix minutes", "Trois jours sans internet avec {b}",
    "Nouvelle hausse de prix chez {b}, sans prévenir",
    "Installation de la box {b} faite aujourd'hui",
    "Quelqu'un a des nouvelles de la panne {b} à Lyon ?", "Merci au technicien {b}, au top",
]
EN_OPENINGS = [
    "Another outage with {b} this morning", "{b} support has not answered in two days",
    "Honestly {b} fixed my line in ten minutes", "Three days without internet thanks to {b}",
    "{b} raised prices again without notice", "Just got my {b} router installed",
    "Anyone else seeing the {b} outage in Leeds?", "Shout-out to the {b} engineer, brilliant",
]
FR_TAILS = [
    "C'est inadmissible.", "Je vais résilier.", "Bravo à l'équipe !", "Le débit est correct.",
    "On attend toujours un geste commercial.", "#panne #fibre", "Bref, déçu.", "Rien à redire.",
]
EN_TAILS = [
    "Unacceptable.", "Thinking of switching.", "Great job team!", "Speed is fine though.",
    "Still waiting for compensation.", "#outage #broadband", "Disappointed.", "No complaints.",
]
PLATFORMS = ["twitter", "facebook", "instagram", "news", "blog", "forum", "reddit", "review"]
FIRST = ["Claire", "Julien", "Sophie", "Karim", "Léa", "Tom", "Emma", "Lucas", "Chloé", "Hugo",
         "Sarah", "James", "Olivia", "Noah", "Inès", "Mehdi"]
LAST = ["Martin", "Bernard", "Dubois", "Smith", "Jones", "Moreau", "Laurent", "Taylor", "Roux",
        "Fournier", "Brown", "Garcia"]
HEADER = ["Query Id", "Query Name", "Date", "Title", "Url", "Domain", "Sentiment", "Page Type",
          "Language", "Country", "Author", "Full Name", "Full Text", "Snippet",
          "Twitter Followers", "Twitter Verified", "Impressions", "Reach (new)", "Resource Id",
          "Account Type"]


def generate(path: Path, rows: int) -> None:
    """A seeded Brandwatch-shaped export with ``rows`` mentions (about 5% without id)."""
    rng = random.Random(SEED)
    authors = []
    for n in range(4000):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        followers = int(rng.paretovariate(1.2) * 50)
        authors.append((f"{first.lower()}_{last.lower()}{n}", f"{first} {last}", followers))
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        for meta in (["Brandwatch Report"], ["Report:", "Mentions"], ["Query:", "Nuvia (bench)"],
                     ["Date Range:", "2024-01-01 - 2024-03-31"], [""]):
            writer.writerow(meta)
        writer.writerow(HEADER)
        for n in range(rows):
            french = rng.random() < 0.6
            brand = rng.choice(BRANDS)
            opening = rng.choice(FR_OPENINGS if french else EN_OPENINGS).format(b=brand)
            tails = rng.sample(FR_TAILS if french else EN_TAILS, k=rng.randint(1, 3))
            text = " ".join([opening + ".", *tails])
            if rng.random() < 0.05:
                text += "\n" + rng.choice(FR_TAILS if french else EN_TAILS)  # multi-line cell
            handle, name, followers = rng.choice(authors)
            page = rng.choice(PLATFORMS)
            when = start + timedelta(seconds=rng.randrange(90 * 86400))
            resource = "" if rng.random() < 0.05 else str(1_760_000_000 + n)
            writer.writerow([
                "1998877", "Nuvia (bench)", when.strftime("%Y-%m-%d %H:%M:%S.0"),
                "" if page in {"twitter", "facebook", "instagram"} else opening,
                f"https://{page}.example.com/{handle}/{n}", f"{page}.example.com",
                rng.choice(["negative", "neutral", "positive"]), page, "fr" if french else "en",
                "France" if french else "United Kingdom", handle, name, text, "",
                f"{followers:,}", "true" if followers > 5000 else "false", "", "", resource,
                "individual",
            ])


def run_import(file: Path, batch_size: int) -> tuple[float, float, int, str]:
    """One import into a fresh data dir.

    Returns (wall seconds, seconds in the import loop, peak RSS in KiB, output).
    """
    data = Path(tempfile.mkdtemp(prefix="veilleur-bench-"))
    env = {
        **os.environ,
        "VEILLEUR_DATA_DIR": str(data),
        "VEILLEUR_DATABASE_URL": f"sqlite:///{data / 'bench.sqlite3'}",
        "VEILLEUR_TASK_BACKEND": "immediate",
    }
    env.pop("VEILLEUR_ENV_FILE", None)
    veilleur = [sys.executable, "-m", "veilleur"]
    subprocess.run([*veilleur, "migrate", "-v", "0"], env=env, check=True)
    subprocess.run([*veilleur, "createuser", "bench", "--workspace", "Bench", "--password",
                    "bench-pw-123", "--email", "bench@example.org"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    process = subprocess.Popen(
        [*veilleur, "import", str(file), "--watch", "Nuvia", "--create-watch", "--no-progress",
         "--batch-size", str(batch_size)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"import failed ({process.returncode}):\n{output}")
    match = re.search(r"Elapsed: ([\d.]+) s", output)
    inner = float(match.group(1)) if match else wall
    return wall, inner, usage.ru_maxrss, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="veilleur-bench-file-"))
    file = work / "brandwatch_bench.csv"
    generate(file, args.rows)
    print(f"generated {args.rows:,} rows ({file.stat().st_size / 1e6:.1f} MB) in {file}")
    walls, inners, peaks = [], [], []
    for run in range(1, args.runs + 1):
        wall, inner, peak, output = run_import(file, args.batch_size)
        stored = re.search(r"Stored: (\d+)", output)
        walls.append(wall)
        inners.append(inner)
        peaks.append(peak)
        print(f"run {run}: {wall:.1f} s wall ({args.rows / wall:,.0f} rows/s), "
              f"{inner:.1f} s in the import loop ({args.rows / inner:,.0f} rows/s), "
              f"stored {stored.group(1) if stored else '?'}, peak RSS {peak / 1024:.0f} MiB")
    wall, inner = statistics.median(walls), statistics.median(inners)
    caveat = "" if args.runs >= 3 else f" (one figure from {args.runs} run(s): no median)"
    print(f"\nrows/s, median of {args.runs}{caveat}: {args.rows / wall:,.0f} (whole command), "
          f"{args.rows / inner:,.0f} (import loop)")
    print(f"peak RSS of the import process: {max(peaks) / 1024:.0f} MiB")
    print(f"machine: {describe_machine()}")


if __name__ == "__main__":
    main()
