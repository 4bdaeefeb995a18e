"""Reading a count series in the Numenta Anomaly Benchmark's CSV format.

``timestamp,value`` with a header line, one row per bucket, timestamps in ISO 8601
(``2015-02-26 21:42:53``) and increasing, values counts >= 0. ``veilleur detect`` and
``benchmarks/nab.py`` both read their files here, so they score the same numbers.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

HEADER = ("timestamp", "value")


class SeriesError(ValueError):
    """A malformed series, with the file and line at fault."""

    def __init__(self, name: str, line: int, message: str) -> None:
        super().__init__(f"{name}:{line}: {message}")
        self.name, self.line, self.message = name, line, message


@dataclass(frozen=True)
class Series:
    """A parsed series; ``rows`` keeps each row as written, to echo it back."""

    timestamps: list[datetime]
    values: list[float]
    rows: list[tuple[str, str]]
    lines: list[int]  # line number of each row in the file

    def bucket(self, default: timedelta = timedelta(minutes=5)) -> timedelta:
        """The series' bucket: the median spacing of its timestamps."""
        if len(self.timestamps) < 2:
            return default
        gaps = [b - a for a, b in zip(self.timestamps, self.timestamps[1:], strict=False)]
        return statistics.median_low(gaps)


def read_series(lines: Iterable[str], name: str = "<input>") -> Series:
    """Parse NAB CSV lines; raise :class:`SeriesError` naming the first bad line."""
    timestamps: list[datetime] = []
    values: list[float] = []
    rows: list[tuple[str, str]] = []
    numbers: list[int] = []
    reader = csv.reader(lines)
    header_seen = False
    for fields in reader:
        line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        if not header_seen:
            header = tuple(f.strip().lstrip("\ufeff").lower() for f in fields)
            if header != HEADER:
                raise SeriesError(name, line, f"expected the header 'timestamp,value', "
                                              f"found {','.join(fields)[:80]!r}")
            header_seen = True
            continue
        if len(fields) != 2:
            raise SeriesError(name, line, f"expected 2 fields, found {len(fields)}")
        stamp, raw_value = fields[0].strip(), fields[1].strip()
        try:
            at = datetime.fromisoformat(stamp)
        except ValueError:
            raise SeriesError(name, line, f"not an ISO 8601 timestamp: {stamp[:40]!r}") from None
        value = _count(raw_value)
        if value is None:
            raise SeriesError(name, line, f"not a count >= 0: {raw_value[:40]!r}")
        if timestamps:
            previous = timestamps[-1]
            if (at.tzinfo is None) != (previous.tzinfo is None):
                raise SeriesError(name, line, "mixes timestamps with and without a time zone")
            if at <= previous:
                raise SeriesError(name, line, f"timestamp {stamp} is not after the previous one")
        timestamps.append(at)
        values.append(value)
        rows.append((stamp, raw_value))
        numbers.append(line)
    if not header_seen:
        raise SeriesError(name, 1, "empty file: expected the header 'timestamp,value'")
    return Series(timestamps, values, rows, numbers)


def _count(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None
