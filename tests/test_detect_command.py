"""``veilleur detect``: NAB-format CSV in, the volume detector's scores out."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from veilleur.analysis.detection import score_series

START = datetime(2015, 3, 2, 0, 2, 53)
BUCKET = timedelta(minutes=5)


def write_series(path: Path, counts, start: datetime = START) -> list[str]:
    stamps = [(start + i * BUCKET).strftime("%Y-%m-%d %H:%M:%S") for i in range(len(counts))]
    lines = ["timestamp,value", *(f"{s},{int(c)}" for s, c in zip(stamps, counts, strict=True))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return stamps


def detect(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("detect", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def counts():
    rng = np.random.default_rng(0)
    values = rng.poisson(3.0, 3 * 288)
    values[2 * 288 + 100:2 * 288 + 106] += 40  # half an hour of a burst on day 3
    return values


def test_it_writes_one_score_per_row_computed_by_the_volume_detector(tmp_path, counts):
    source, target = tmp_path / "series.csv", tmp_path / "scores.csv"
    stamps = write_series(source, counts)
    _, err = detect("--input", str(source), "--output", str(target))
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert rows[0] == ["timestamp", "value", "anomaly_score"]
    assert [r[0] for r in rows[1:]] == stamps
    assert [int(r[1]) for r in rows[1:]] == list(counts)
    scores = [float(r[2]) for r in rows[1:]]
    assert all(0.0 <= s <= 1.0 for s in scores)
    expected = score_series([datetime.fromisoformat(s) for s in stamps], [float(c) for c in counts])
    assert scores == pytest.approx([r.score for r in expected], abs=1e-9)
    assert max(scores[2 * 288 + 100:2 * 288 + 106]) >= 0.5
    assert max(scores[:2 * 288 + 100]) < 0.5
    assert f"scored {len(counts)}/{len(counts)} rows" in err


def test_without_output_it_writes_to_stdout_and_can_explain(tmp_path, counts):
    source = tmp_path / "series.csv"
    write_series(source, counts)
    out, _ = detect("--input", str(source), "--explain", "--no-progress")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(counts)
    assert set(rows[0]) == {"timestamp", "value", "anomaly_score", "expected",
                            "log10_probability", "strength"}
    burst = rows[2 * 288 + 102]
    assert float(burst["expected"]) < 10 and float(burst["log10_probability"]) < -10


def test_the_bucket_follows_the_file_or_the_option(tmp_path):
    source = tmp_path / "hourly.csv"
    hourly = [(START + timedelta(hours=h)).strftime("%Y-%m-%d %H:%M:%S") for h in range(30)]
    source.write_text("timestamp,value\n" + "".join(f"{s},5\n" for s in hourly))
    _, err = detect("--input", str(source), "--output", str(tmp_path / "out.csv"))
    assert "bucket 1:00:00" in err
    rows = list(csv.reader((tmp_path / "out.csv").open()))[1:]
    assert len(rows) == 30
    target = tmp_path / "two-hourly.csv"
    with pytest.raises(CommandError, match=r"hourly\.csv:3: rows closer together than the bucket"):
        detect("--input", str(source), "--bucket-minutes", "120", "--output", str(target))
    assert not target.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time,count\n2015-03-02 00:00:00,3\n", r"series.csv:1: expected the header"),
        ("timestamp,value\n2015-03-02 00:00:00,3\n2015-03-02 00:05:00\n",
         r"series.csv:3: expected 2 fields, found 1"),
        ("timestamp,value\n2015-03-02 00:00:00,3\nyesterday,4\n",
         r"series.csv:3: not an ISO 8601 timestamp: 'yesterday'"),
        ("timestamp,value\n2015-03-02 00:00:00,3\n\n2015-03-02 00:05:00,-2\n",
         r"series.csv:4: not a count >= 0: '-2'"),
        ("timestamp,value\n2015-03-02 00:05:00,3\n2015-03-02 00:00:00,4\n",
         r"series.csv:3: timestamp 2015-03-02 00:00:00 is not after the previous one"),
        ("", r"series.csv:1: empty file"),
    ],
)
def test_malformed_input_names_the_file_and_line(tmp_path, content, message):
    source = tmp_path / "series.csv"
    source.write_text(content, encoding="utf-8")
    target = tmp_path / "scores.csv"
    with pytest.raises(CommandError, match=message):
        detect("--input", str(source), "--output", str(target))
    assert not target.exists()  # nothing is written before the whole file is read


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"cannot read .*nowhere\.csv"):
        detect("--input", str(tmp_path / "nowhere.csv"))
