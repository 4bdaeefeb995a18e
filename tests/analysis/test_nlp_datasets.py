"""Labelled data files: JSONL and CSV, and errors that say where the problem is."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from veilleur.analysis.nlp.datasets import DatasetError, Example, load_dataset


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(*records: object) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def test_it_reads_jsonl_with_optional_language(tmp_path: Path) -> None:
    path = write(tmp_path / "seed.jsonl", jsonl(
        {"text": "Toujours pas reçu", "label": "negative", "lang": "fr"},
        {"text": "Great, thanks", "label": "positive"},
    ) + "\n   \n")
    dataset = load_dataset(path)
    assert dataset.examples == [Example("Toujours pas reçu", "negative", "fr"),
                                Example("Great, thanks", "positive", "")]
    assert dataset.name == "seed.jsonl"
    assert dataset.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + jsonl({"text": "ok", "label": "neutral"}).encode())
    assert load_dataset(path).examples == [Example("ok", "neutral")]


def test_it_reads_csv_with_the_airline_label_column(tmp_path: Path) -> None:
    path = write(tmp_path / "tweets.csv",
                 "tweet_id,airline_sentiment,text\n1,negative,\"Late again, thanks\"\n"
                 "2,neutral,Which gate?\n")
    assert load_dataset(path).examples == [Example("Late again, thanks", "negative"),
                                           Example("Which gate?", "neutral")]


def test_a_csv_label_column_prefers_label(tmp_path: Path) -> None:
    path = write(tmp_path / "both.csv", "text,sentiment,label,lang\nbof,positive,neutral,fr\n")
    assert load_dataset(path).examples == [Example("bof", "neutral", "fr")]


def test_a_bad_label_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.jsonl", jsonl(
        {"text": "fine", "label": "neutral"},
        {"text": "meh", "label": "pos"},
    ))
    with pytest.raises(DatasetError, match=r"bad\.jsonl:2: label 'pos' is not one of"):
        load_dataset(path)


def test_labels_are_not_guessed(tmp_path: Path) -> None:
    for number, label in enumerate([1, "Positive", "neg", None], start=1):
        path = write(tmp_path / f"guess{number}.jsonl", jsonl({"text": "x", "label": label}))
        with pytest.raises(DatasetError, match=rf"guess{number}\.jsonl:1: label"):
            load_dataset(path)


def test_bad_json_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.jsonl",
                 jsonl({"text": "fine", "label": "neutral"}) + "\n{'text': 'single quotes'}\n")
    with pytest.raises(DatasetError, match=r"broken\.jsonl:3: not JSON"):
        load_dataset(path)


def test_a_json_line_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "list.jsonl", '["text", "negative"]\n')
    with pytest.raises(DatasetError, match=r"list\.jsonl:1: expected a JSON object"):
        load_dataset(path)


@pytest.mark.parametrize("text", [None, "", "   ", 42])
def test_a_missing_text_names_the_line(tmp_path: Path, text: object) -> None:
    path = write(tmp_path / "empty.jsonl", jsonl({"text": text, "label": "negative"}))
    with pytest.raises(DatasetError, match=r"empty\.jsonl:1: missing text"):
        load_dataset(path)


def test_a_csv_without_a_text_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "notext.csv", "tweet,airline_sentiment\nhello,neutral\n")
    with pytest.raises(DatasetError, match=r"notext\.csv: a CSV needs a 'text' column"):
        load_dataset(path)


def test_a_csv_without_a_label_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "nolabel.csv", "text,score\nhello,3\n")
    with pytest.raises(DatasetError, match=r"nolabel\.csv: a CSV needs"):
        load_dataset(path)


def test_a_bad_csv_label_names_the_row_line(tmp_path: Path) -> None:
    path = write(tmp_path / "rows.csv", "text,label\nfine,neutral\nbad,meh\n")
    with pytest.raises(DatasetError, match=r"rows\.csv:3: label 'meh'"):
        load_dataset(path)


def test_a_multi_line_csv_field_keeps_its_line_break(tmp_path: Path) -> None:
    path = write(tmp_path / "multi.csv", 'text,label\n"first line\nsecond line",negative\n')
    assert load_dataset(path).examples == [Example("first line\nsecond line", "negative")]


def test_an_empty_file_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "nothing.jsonl", "\n\n")
    with pytest.raises(DatasetError, match=r"nothing\.jsonl: no labelled lines"):
        load_dataset(path)


def test_a_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"absent\.jsonl: cannot read"):
        load_dataset(tmp_path / "absent.jsonl")
