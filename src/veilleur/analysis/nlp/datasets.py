"""Labelled text files for training and evaluation: JSONL or CSV.

JSONL lines are ``{"text": ..., "label": ..., "lang"?: ...}``. CSV files need a
``text`` column and a label column named ``label``, ``sentiment`` or
``airline_sentiment`` (the airline set's name). Labels are negative / neutral /
positive; ``neg``/``pos``/``0``/``1``... are not guessed: a bad label is an error
naming the file and line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

from veilleur.analysis.nlp.head import LABELS

LABEL_COLUMNS = ("label", "sentiment", "airline_sentiment")


class DatasetError(ValueError):
    """A labelled file cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    lang: str = ""


@dataclass(frozen=True)
class Dataset:
    path: Path
    examples: list[Example]
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name


def load_dataset(path: str | Path) -> Dataset:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from exc
    text = raw.decode("utf-8-sig", errors="replace")
    reader = _from_csv if path.suffix.lower() == ".csv" else _from_jsonl
    examples = reader(path, text)
    if not examples:
        raise DatasetError(f"{path}: no labelled lines")
    return Dataset(path=path, examples=examples, sha256=hashlib.sha256(raw).hexdigest())


def _check(path: Path, line: int, text: object, label: object, lang: object) -> Example:
    if not isinstance(text, str) or not text.strip():
        raise DatasetError(f"{path}:{line}: missing text")
    if label not in LABELS:
        raise DatasetError(
            f"{path}:{line}: label {label!r} is not one of {', '.join(LABELS)}"
        )
    return Example(text=text, label=str(label), lang=lang if isinstance(lang, str) else "")


def _from_jsonl(path: Path, text: str) -> list[Example]:
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{number}: not JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise DatasetError(f"{path}:{number}: expected a JSON object")
        out.append(_check(path, number, record.get("text"), record.get("label"),
                          record.get("lang")))
    return out


def _from_csv(path: Path, text: str) -> list[Example]:
    # newline="" keeps line breaks inside quoted fields (tweets have them).
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    label_column = next((c for c in LABEL_COLUMNS if c in columns), None)
    if "text" not in columns or label_column is None:
        raise DatasetError(
            f"{path}: a CSV needs a 'text' column and one of {', '.join(LABEL_COLUMNS)}"
        )
    return [
        _check(path, reader.line_num, row.get("text"), row.get(label_column), row.get("lang"))
        for row in reader
    ]
