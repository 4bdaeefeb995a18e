"""``veilleur detect --input SERIES.csv --output SCORES.csv``: volume spike scores.

Reads a count series in the Numenta Anomaly Benchmark's format (``timestamp,value``,
one row per bucket) and writes ``timestamp,value,anomaly_score``, each score in [0, 1]
computed causally (row *i* sees rows <= *i* only) by the product's volume detector,
``veilleur.analysis.detection.VolumeDetector`` with its default parameters. The bucket
is the median spacing of the timestamps unless ``--bucket-minutes`` says otherwise;
hour of day and day of week are read from the timestamps as written.

A malformed file stops the command before anything is written, with the file and line
at fault. ``--explain`` adds the expected count, log10 P(at least the observed count)
and the strength (how many times the usual surprise) of every row.
"""

from __future__ import annotations

import csv
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from veilleur.analysis.detection import (
    Series,
    SeriesError,
    VolumeConfig,
    VolumeDetector,
    read_series,
)

PROGRESS_EVERY = 5000


class Command(BaseCommand):
    help = "Score a timestamp,value CSV series with the volume spike detector (NAB format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--input", required=True, help="CSV with timestamp,value (- for stdin)")
        parser.add_argument("--output", help="where to write the scores (default: stdout)")
        parser.add_argument("--bucket-minutes", type=float,
                            help="bucket length (default: the median spacing of the rows)")
        parser.add_argument("--explain", action="store_true",
                            help="add expected, log10_probability and strength columns")
        parser.add_argument("--no-progress", action="store_true", help="no progress on stderr")

    def handle(self, *args: Any, **options: Any) -> None:
        series = self._read(options["input"])
        if options["bucket_minutes"] is not None:
            if options["bucket_minutes"] <= 0:
                raise CommandError("--bucket-minutes must be positive")
            bucket = timedelta(minutes=options["bucket_minutes"])
        else:
            bucket = series.bucket()
        for previous, at, line in zip(series.timestamps, series.timestamps[1:], series.lines[1:],
                                      strict=False):
            if round((at - previous) / bucket) < 1:
                raise CommandError(f"{options['input']}:{line}: rows closer together than the "
                                   f"bucket ({bucket}); see --bucket-minutes")
        detector = VolumeDetector(VolumeConfig(bucket=bucket))
        path = options["output"]
        to_file = bool(path) and path != "-"
        try:
            out: IO[str] | OutputWrapper = (
                open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
                if to_file else self.stdout
            )
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror}") from exc
        show = not options["no_progress"] and (to_file or not self.stdout.isatty())
        try:
            self._write(series, detector, out, options, show)
        except BrokenPipeError:
            # The reader went away (``| head``): stop quietly, as Unix tools do, without
            # a second error when Python flushes standard output on exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return
        finally:
            if to_file:
                out.close()
        if show:
            self.stderr.write(f" (bucket {bucket})")

    def _write(self, series: Series, detector: VolumeDetector, out: IO[str] | OutputWrapper,
               options: dict[str, Any], show: bool) -> None:
        total = len(series.values)
        writer = csv.writer(out, lineterminator="\n")
        header = ["timestamp", "value", "anomaly_score"]
        writer.writerow([*header, "expected", "log10_probability", "strength"]
                        if options["explain"] else header)
        rows = zip(series.timestamps, series.values, series.rows, strict=True)
        for done, (at, value, (stamp, raw)) in enumerate(rows, 1):
            result = detector.update(at, value)
            row = [stamp, raw, f"{result.score:.10g}"]
            if options["explain"]:
                row += [f"{result.expected:.4g}", f"{result.log10_probability:.4g}",
                        f"{result.strength:.4g}"]
            writer.writerow(row)
            if show and (done % PROGRESS_EVERY == 0 or done == total):
                self.stderr.write(f"\rscored {done}/{total} rows", ending="")

    def _read(self, path: str) -> Series:
        try:
            if path == "-":
                return read_series(sys.stdin, "<stdin>")
            with Path(path).open(encoding="utf-8", errors="replace", newline="") as source:
                return read_series(source, path)
        except SeriesError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
