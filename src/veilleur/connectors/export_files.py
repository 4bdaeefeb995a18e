"""Reading export files: encodings, CSV dialects, header rows, records with offsets.

Every record comes with the byte offset where the next one starts, so an import
can stop after any record and resume there later (the offset is what the file
connector keeps in its cursor). Files are read as bytes and decoded line by
line: Python's text files cannot report a position while being iterated.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

# A CSV field may be large (a whole article), but not unbounded: one bad quote
# must not swallow the rest of a 2 GB file into memory.
FIELD_LIMIT = 8 * 1024 * 1024
LINE_LIMIT = 2 * FIELD_LIMIT
ENCODING_SAMPLE = 8 * 1024 * 1024
HEADER_SEARCH_ROWS = 20
MAX_HEADER_COLUMNS = 500
DELIMITERS = (",", ";", "\t", "|")
JSON_FLATTEN_DEPTH = 4


class UnreadableFile(Exception):
    """The file as a whole cannot be imported (encoding, no header...)."""


@dataclass(frozen=True)
class Record:
    """One data record: its cells (column -> text) or why it could not be read."""

    number: int  # 1-based among data records
    line: int  # 1-based physical line where it starts
    cells: dict[str, str] | None
    error: str
    end_offset: int  # where the next record starts
    end_line: int  # physical lines consumed up to the end of this record


def detect_encoding(path: Path, configured: str = "auto") -> tuple[str, int]:
    """(codec name, BOM length) for the file; UTF-8 when it decodes, else Windows-1252."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise UnreadableFile(
                "the file is UTF-16 (Excel 'Unicode text'); save it as CSV UTF-8 and import again"
            )
        bom = 3 if head.startswith(codecs.BOM_UTF8) else 0
        if configured != "auto":
            return configured, bom
        fh.seek(bom)
        decoder = codecs.getincrementaldecoder("utf-8")()
        read = 0
        try:
            while read < ENCODING_SAMPLE:
                chunk = fh.read(1024 * 1024)
                if not chunk:
                    decoder.decode(b"", final=True)
                    break
                read += len(chunk)
                decoder.decode(chunk)
        except UnicodeDecodeError:
            fh.seek(bom)
            sample = fh.read(ENCODING_SAMPLE)
            try:
                sample.decode("cp1252")
            except UnicodeDecodeError:
                return "latin-1", bom  # bytes cp1252 leaves undefined: plain ISO-8859-1
            return "cp1252", bom
    return "utf-8", bom


class _Lines:
    """Decoded lines of a binary file, with the byte offset after the last one."""

    def __init__(self, fh: IO[bytes], encoding: str, offset: int, line: int) -> None:
        self.fh = fh
        self.encoding = encoding
        self.offset = offset
        self.line = line  # physical lines consumed so far
        self.oversized = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        raw = self.fh.readline(LINE_LIMIT)
        if not raw:
            raise StopIteration
        self.offset += len(raw)
        self.line += 1
        if len(raw) == LINE_LIMIT and not raw.endswith(b"\n"):
            # Skip the rest of a monstrous line; the caller reports the record.
            while raw and not raw.endswith(b"\n"):
                raw = self.fh.readline(LINE_LIMIT)
                self.offset += len(raw)
            self.oversized = True
            return "\n"
        return raw.decode(self.encoding, errors="replace")


def _raise_field_limit() -> None:
    if csv.field_size_limit() < FIELD_LIMIT:
        csv.field_size_limit(FIELD_LIMIT)


def read_csv_records(
    path: Path, encoding: str, delimiter: str, header: Sequence[str], offset: int,
    number: int, line: int, limit: int,
) -> Iterator[Record]:
    """Up to ``limit`` records from ``offset``; bad ones come back with an error."""
    _raise_field_limit()
    width = len(header)
    with path.open("rb") as fh:
        fh.seek(offset)
        lines = _Lines(fh, encoding, offset, line)
        reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True)
        produced = 0
        while produced < limit:
            start_line = lines.line + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                produced += 1
                yield Record(number, start_line, None, f"unreadable CSV ({exc})", lines.offset,
                             lines.line)
                # Start afresh on the next line: one broken record must not end the file.
                reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True)
                continue
            if lines.oversized:
                lines.oversized = False
                number += 1
                produced += 1
                yield Record(number, start_line, None, "line longer than 16 MiB", lines.offset,
                             lines.line)
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line: not a record
            number += 1
            produced += 1
            if len(row) > width and any(cell.strip() for cell in row[width:]):
                yield Record(
                    number, start_line, None,
                    f"{len(row)} cells for {width} columns (unquoted delimiter?)", lines.offset,
                    lines.line,
                )
                continue
            yield Record(number, start_line, dict(zip(header, row, strict=False)), "",
                         lines.offset, lines.line)


def read_jsonl_records(
    path: Path, encoding: str, offset: int, number: int, line: int, limit: int
) -> Iterator[Record]:
    """Up to ``limit`` JSON-object lines from ``offset``, flattened to dotted keys."""
    with path.open("rb") as fh:
        fh.seek(offset)
        lines = _Lines(fh, encoding, offset, line)
        produced = 0
        for text in lines:
            if lines.oversized:
                lines.oversized = False
                number += 1
                produced += 1
                yield Record(number, lines.line, None, "line longer than 16 MiB", lines.offset,
                             lines.line)
            elif text.strip():
                number += 1
                produced += 1
                yield _json_record(text, number, lines.line, lines.offset)
            if produced >= limit:
                return


def _json_record(text: str, number: int, line: int, end: int) -> Record:
    try:
        value = json.loads(text)
    except ValueError as exc:
        return Record(number, line, None, f"invalid JSON ({exc})", end, line)
    if not isinstance(value, dict):
        return Record(number, line, None, "a line must hold a JSON object", end, line)
    return Record(number, line, flatten_json(value), "", end, line)


def flatten_json(value: dict[str, Any], prefix: str = "", depth: int = 0) -> dict[str, str]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": "1"}``; lists of scalars joined with ', '."""
    out: dict[str, str] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict) and depth < JSON_FLATTEN_DEPTH:
            out.update(flatten_json(item, name + ".", depth + 1))
        elif isinstance(item, list):
            if all(not isinstance(x, dict | list) for x in item):
                out[name] = ", ".join(_scalar(x) for x in item)
            else:
                out[name] = json.dumps(item, ensure_ascii=False)[:2000]
        elif isinstance(item, dict):
            out[name] = json.dumps(item, ensure_ascii=False)[:2000]
        else:
            out[name] = _scalar(item)
    return out


def _scalar(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class CsvLayout:
    delimiter: str
    header: list[str]
    data_offset: int  # byte offset of the first data record
    header_line: int  # physical line of the header row (1-based)


def find_csv_header(
    path: Path, encoding: str, start: int, score: Callable[[list[str]], float]
) -> CsvLayout | None:
    """The delimiter and header row that ``score`` likes best in the first records.

    Vendor exports may start with report metadata (Brandwatch writes the query,
    the date range...), so the header is the row among the first
    ``HEADER_SEARCH_ROWS`` whose cells look most like known column names. None
    when no row scores above zero.
    """
    _raise_field_limit()
    best: tuple[float, int, CsvLayout] | None = None
    for delimiter in DELIMITERS:
        with path.open("rb") as fh:
            fh.seek(start)
            lines = _Lines(fh, encoding, start, 0)
            reader = csv.reader(lines, delimiter=delimiter, quotechar='"')
            for _ in range(HEADER_SEARCH_ROWS):
                try:
                    row = next(reader)
                except (StopIteration, csv.Error):
                    break
                cells = [cell.strip() for cell in row]
                if len(cells) > MAX_HEADER_COLUMNS:
                    continue
                points = score(cells)
                if points > 0 and (best is None or (points, len(cells)) > best[:2]):
                    layout = CsvLayout(delimiter, cells, lines.offset, lines.line)
                    best = (points, len(cells), layout)
    return best[2] if best else None


def sniff_csv_header(path: Path, encoding: str, start: int) -> CsvLayout:
    """csv.Sniffer's delimiter and the first row as header, for files nobody recognises."""
    _raise_field_limit()
    with path.open("rb") as fh:
        fh.seek(start)
        sample = fh.read(64 * 1024).decode(encoding, errors="replace")
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        delimiter = ","
    with path.open("rb") as fh:
        fh.seek(start)
        lines = _Lines(fh, encoding, start, 0)
        try:
            header = next(csv.reader(lines, delimiter=delimiter, quotechar='"'))
        except (StopIteration, csv.Error):
            raise UnreadableFile("the file has no header row") from None
        return CsvLayout(delimiter, [c.strip() for c in header][:MAX_HEADER_COLUMNS],
                         lines.offset, lines.line)


def jsonl_keys(path: Path, encoding: str, start: int, sample_lines: int = 50) -> list[str]:
    """The dotted keys of the first objects of a JSON-lines file, in first-seen order."""
    keys: dict[str, None] = {}
    for record in read_jsonl_records(path, encoding, start, 0, 0, sample_lines):
        if record.cells:
            keys.update(dict.fromkeys(record.cells))
    return list(keys)[:MAX_HEADER_COLUMNS]
