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

``--slow-rise`` runs the slow-rise detector (``detection/slow_rise.py``) over the same
files, chained to the spike detector as the product's runner chains them, and counts its
signals: how many fall outside the labelled windows (on series this noisy, the rate
at which it would interrupt someone) and how many windows it touches; then the same
for a few neighbouring parameters. NAB's scores are not computed for it: its windows
label spikes, and it is not the detector ``veilleur detect`` runs.

    python benchmarks/nab.py [--data-dir ../shared/data/nab-realtweets-dev] [--json OUT]
                             [--sweep] [--slow-rise]
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
from veilleur.analysis.detection.slow_rise import SlowRiseConfig, SlowRiseDetector
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


def slow_rise_signals(series: Series, config: SlowRiseConfig | None = None) -> list[int]:
    """Rows where the slow-rise detector fires, chained to the default spike detector."""
    bucket = series.bucket()
    spike = VolumeDetector(replace(DEFAULT_CONFIG, bucket=bucket))
    slow = SlowRiseDetector(replace(config or SlowRiseConfig(), bucket=bucket))
    rows = []
    for row, (at, value) in enumerate(zip(series.timestamps, series.values, strict=True)):
        score = spike.update(at, value)
        if slow.update(at, value, None if score.warming_up else score.expected).fired:
            rows.append(row)
    return rows


def slow_rise_report(files: list[tuple[str, Series, list[tuple[int, int]]]],
                     config: SlowRiseConfig | None = None) -> dict[str, Any]:
    """Per file: signals, those outside the labelled windows, windows touched, days."""
    per_file = []
    for name, series, spans in files:
        rows = slow_rise_signals(series, config)
        inside = [r for r in rows if any(left <= r <= right for left, right in spans)]
        touched = sum(any(left <= r <= right for r in rows) for left, right in spans)
        days = (series.timestamps[-1] - series.timestamps[0]) / timedelta(days=1)
        per_file.append({"file": name, "signals": len(rows), "outside": len(rows) - len(inside),
                         "windows": len(spans), "windows_touched": touched,
                         "days": round(days, 1)})
    total_days = sum(f["days"] for f in per_file)
    outside = sum(f["outside"] for f in per_file)
    return {"files": per_file, "outside": outside,
            "windows_touched": sum(f["windows_touched"] for f in per_file),
            "windows": sum(f["windows"] for f in per_file),
            "outside_per_week": round(7 * outside / total_days, 2)}


SLOW_RISE_VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("defaults", {}),
    ("threshold 8", {"threshold": 8.0}), ("threshold 12", {"threshold": 12.0}),
    ("ratio 1.5", {"ratio": 1.5}), ("ratio 3", {"ratio": 3.0}),
    ("clip at 1 deviation", {"clip_sigmas": 1.0}), ("clip at 3 deviations", {"clip_sigmas": 3.0}),
    ("2 days of history", {"min_days": 2}),
    ("dispersion half-life 3 days", {"dispersion_half_life": timedelta(days=3)}),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--sweep", action="store_true", help="score neighbouring parameters too")
    parser.add_argument("--slow-rise", action="store_true",
                        help="count the slow-rise detector's signals on the same files")
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
    if args.slow_rise:
        print("\nslow-rise detector (default parameters): signals outside / inside the "
              "labelled windows, windows touched")
        rows = []
        for label, changes in SLOW_RISE_VARIANTS:
            report = slow_rise_report(files, SlowRiseConfig(**changes))
            rows.append({"variant": label, **report})
            if label == "defaults":
                for f in report["files"]:
                    print(f"  {f['file']:6s} {f['signals']:3d} signals, {f['outside']:3d} "
                          f"outside, {f['windows_touched']}/{f['windows']} windows touched, "
                          f"{f['days']:.0f} days")
            print(f"{label:30s} outside {report['outside']:4d} "
                  f"({report['outside_per_week']:.2f} a week per file), windows touched "
                  f"{report['windows_touched']}/{report['windows']}", flush=True)
        output["slow_rise"] = rows
    if args.json:
        args.json.write_text(json.dumps(output, indent=2) + "\n")
    return 0


def _config(config: VolumeConfig) -> dict[str, Any]:
    return {key: str(value) for key, value in asdict(config).items()}


if __name__ == "__main__":
    raise SystemExit(main())
