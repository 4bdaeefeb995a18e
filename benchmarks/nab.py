"""NAB benchmark of the volume spike detector on the Twitter volume files.

Reads ``../shared/data/nab-realtweets-dev/`` (``windows.json`` and ``realTweets/*.csv``,
evaluation data: never copied into the repository), scores every file with the product's
detector exactly as ``veilleur detect`` does (``read_series``, then a ``VolumeDetector``
with the default parameters and the file's bucket, fed one row at a time), and scores the
result with the NAB rules of ``benchmarks/nab_scoring.py`` (standard profile):

- **optimised**: one threshold for all files, the best on these files, as NAB reports;
- **leave-one-file-out**: each file scored at the threshold that is best on the four
  others, raw scores summed, then normalised: the figure to expect on a new series;
- at the product's default alert threshold (0.5, "ten times the usual surprise");
- per file: windows detected, where in the window, false-positive rows, raw score.

``--sweep`` also scores the neighbours of the default parameters, one change at a
time (evidence window, calibration, escalation, episode, level and profile half-lives,
winsorising), the sensitivity table of ``docs/detection.md``. The detector sees no
labels; the windows are read only to score.

    python benchmarks/nab.py [--data-dir ../shared/data/nab-realtweets-dev] [--json OUT]
                             [--sweep]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import nab_scoring as nab  # benchmarks/nab_scoring.py
from machine import describe as describe_machine  # benchmarks/machine.py

from veilleur.analysis.detection import (
    ALERT_THRESHOLD,
    DEFAULT_CONFIG,
    Series,
    VolumeConfig,
    read_series,
)
from veilleur.analysis.detection.volume import VolumeDetector

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "nab-realtweets-dev"
ARTIME = 82.6  # the best published score on these five files (data README)


def load(data_dir: Path) -> list[tuple[str, Series, list[tuple[int, int]]]]:
    """Each file's series and its windows as row indices (exact timestamps, as NAB)."""
    windows = json.loads((data_dir / "windows.json").read_text())
    files = []
    for relative in sorted(windows):
        path = data_dir / relative
        with path.open(encoding="utf-8", newline="") as source:
            series = read_series(source, str(path))
        row = {at: i for i, at in enumerate(series.timestamps)}
        spans = [(row[datetime.fromisoformat(left)], row[datetime.fromisoformat(right)])
                 for left, right in windows[relative]]
        files.append((Path(relative).stem.removeprefix("Twitter_volume_"), series, spans))
    return files


def detect(series: Series, config: VolumeConfig = DEFAULT_CONFIG) -> list[float]:
    """The anomaly score of every row, as ``veilleur detect`` computes it."""
    detector = VolumeDetector(replace(config, bucket=series.bucket()))
    return [detector.update(at, value).score
            for at, value in zip(series.timestamps, series.values, strict=True)]


def evaluate(files: list[tuple[str, Series, list[tuple[int, int]]]],
             config: VolumeConfig = DEFAULT_CONFIG,
             profile: nab.Profile = nab.STANDARD) -> dict[str, Any]:
    """Optimised and leave-one-file-out NAB scores of the detector with ``config``."""
    started = time.perf_counter()
    labelled = [nab.LabelledFile(name, detect(series, config), spans)
                for name, series, spans in files]
    seconds = time.perf_counter() - started
    optimised = nab.score_optimised(labelled, profile)
    held_out = nab.leave_one_out(labelled, profile)
    shipped = [nab.score_file(file, ALERT_THRESHOLD, profile) for file in labelled]
    return {
        "optimised": optimised.score,
        "leave_one_out": held_out.score,
        "default_threshold": nab.normalise(sum(r.raw for r in shipped),
                                           sum(r.null for r in shipped),
                                           sum(r.perfect for r in shipped)),
        "threshold": optimised.files[0].threshold,
        "files": [_file_report(o, h, spans) for o, h, (_, _, spans)
                  in zip(optimised.files, held_out.files, files, strict=True)],
        "rows": sum(len(series.values) for _, series, _ in files),
        "seconds": seconds,
    }


def _file_report(optimised: nab.FileResult, held_out: nab.FileResult,
                 spans: list[tuple[int, int]]) -> dict[str, Any]:
    def where(result: nab.FileResult) -> list[str]:
        return [f"{(row - left) / (right - left + 1):.2f}" if row >= 0 else "missed"
                for row, (left, right) in zip(result.first_detections, spans, strict=True)]

    return {
        "file": optimised.name,
        "windows": optimised.windows,
        "optimised": {"raw": optimised.raw, "detected": optimised.detected,
                      "false_positive_rows": optimised.false_positives,
                      "first_detection_in_window": where(optimised)},
        "leave_one_out": {"threshold": held_out.threshold, "raw": held_out.raw,
                          "detected": held_out.detected,
                          "false_positive_rows": held_out.false_positives},
    }


def sweep(files: list[tuple[str, Series, list[tuple[int, int]]]]) -> list[dict[str, Any]]:
    """The default parameters and their neighbours, one change at a time."""
    variants: list[tuple[str, VolumeConfig]] = [("default", DEFAULT_CONFIG)]
    for minutes in (5, 10, 15, 25, 30):
        variants.append((f"evidence window {minutes} min",
                         replace(DEFAULT_CONFIG, evidence_window=timedelta(minutes=minutes))))
    for days in (3, 4, 5, 6, 10, 14):
        variants.append((f"calibration half-life {days} d",
                         replace(DEFAULT_CONFIG, calibration_half_life=timedelta(days=days))))
    for escalation in (1.0, 1.25, 1.5):
        variants.append((f"escalation {escalation}",
                         replace(DEFAULT_CONFIG, escalation=escalation)))
    for hours in (12, 48):
        variants.append((f"episode half-life {hours} h",
                         replace(DEFAULT_CONFIG, episode_half_life=timedelta(hours=hours))))
    for hours in (12, 48):
        variants.append((f"level half-life {hours} h",
                         replace(DEFAULT_CONFIG, level_half_life=timedelta(hours=hours))))
    for days in (1.0, 3.0, 7.0):
        variants.append((f"hour profile half-life {days:g} d",
                         replace(DEFAULT_CONFIG, hour_half_life_days=days)))
    for weeks in (2.0, 4.0):
        variants.append((f"weekday profile half-life {weeks:g} w",
                         replace(DEFAULT_CONFIG, weekday_half_life_weeks=weeks)))
    for sigmas in (2.0, 4.0):
        variants.append((f"winsorise at {sigmas:g} sd",
                         replace(DEFAULT_CONFIG, winsor_sigmas=sigmas)))
    rows = []
    for name, config in variants:
        result = evaluate(files, config)
        rows.append({"variant": name, "optimised": result["optimised"],
                     "leave_one_out": result["leave_one_out"]})
        print(f"  {name:32s} {result['optimised']:6.1f} {result['leave_one_out']:6.1f}",
              flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--sweep", action="store_true", help="score neighbouring parameters too")
    args = parser.parse_args(argv)
    if not (args.data_dir / "windows.json").is_file():
        print(f"no NAB data in {args.data_dir}", file=sys.stderr)
        return 2
    files = load(args.data_dir)
    result = evaluate(files)
    code_variant = evaluate(files, profile=replace(nab.STANDARD, tp_relative_to_edge=True))
    machine = describe_machine()
    print(f"NAB, standard profile, {len(files)} files of {args.data_dir.name}")
    print(f"machine: {machine}")
    print(f"detector: VolumeDetector, default parameters; {result['rows']} rows in "
          f"{result['seconds']:.1f} s ({result['rows'] / result['seconds']:,.0f} rows/s)")
    print(f"optimised threshold (score >= {result['threshold']:.4f}): "
          f"{result['optimised']:.1f}   (ARTime {ARTIME})")
    print(f"leave-one-file-out: {result['leave_one_out']:.1f}")
    print(f"at the product's default alert threshold ({ALERT_THRESHOLD}): "
          f"{result['default_threshold']:.1f}")
    print(f"(NAB code's variant, true positives divided by sigma(-1): optimised "
          f"{code_variant['optimised']:.1f}, "
          f"leave-one-file-out {code_variant['leave_one_out']:.1f})")
    print(f"{'file':6s} {'windows':>7s} {'found':>5s} {'FP rows':>7s} {'raw':>6s}   "
          f"first detection (fraction of window)   | LOO threshold, found, FP rows, raw")
    for report in result["files"]:
        o, h = report["optimised"], report["leave_one_out"]
        print(f"{report['file']:6s} {report['windows']:7d} {o['detected']:5d} "
              f"{o['false_positive_rows']:7d} {o['raw']:6.2f}   "
              f"{' '.join(o['first_detection_in_window']):38s} | {h['threshold']:.4f} "
              f"{h['detected']} {h['false_positive_rows']} {h['raw']:.2f}")
    output: dict[str, Any] = {"machine": machine, "config": _config(DEFAULT_CONFIG), **result,
                              "nab_code_variant": {k: code_variant[k]
                                                   for k in ("optimised", "leave_one_out")}}
    if args.sweep:
        print("\nsensitivity (one change from the defaults): optimised, leave-one-file-out")
        output["sweep"] = sweep(files)
    if args.json:
        args.json.write_text(json.dumps(output, indent=2) + "\n")
    return 0


def _config(config: VolumeConfig) -> dict[str, Any]:
    return {key: str(value) for key, value in asdict(config).items()}


if __name__ == "__main__":
    raise SystemExit(main())
