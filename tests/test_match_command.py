"""``veilleur match``: try a watch query on a file of mentions before saving it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

ROWS = [
    {"text": "Encore une panne chez Nuvia ce matin", "lang": "fr", "source": "mastodon"},
    {"text": "Nuvia support fixed my line, great job", "lang": "en", "followers": 20000},
    {"text": "Rien à voir avec la fibre", "lang": "fr"},
    {"title": "Nuvia : coupure géante", "text": "Des milliers de clients touchés",
     "url": "https://www.lemonde.fr/article", "lang": "fr"},
]


def jsonl(tmp_path: Path, rows: list[object], extra: str = "") -> Path:
    path = tmp_path / "mentions.jsonl"
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def run(*args: str) -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("match", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return out.getvalue(), err.getvalue(), code


def test_it_prints_the_matching_lines_as_read(tmp_path):
    path = jsonl(tmp_path, ROWS)
    out, err, code = run("nuvia (panne OR coupure*)", str(path))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert out.splitlines() == [lines[0], lines[3]]
    assert (err, code) == ("", 0)


def test_fields_of_json_lines_can_be_filtered(tmp_path):
    path = jsonl(tmp_path, ROWS)
    assert run("nuvia lang:en followers:>10k", str(path))[0].count("\n") == 1
    assert run("site:lemonde.fr", str(path))[0].count("\n") == 1  # from "url"
    assert run("title:coupure", str(path))[0].count("\n") == 1
    assert run("source:mastodon", str(path))[0].count("\n") == 1


def test_count_prints_only_the_number(tmp_path):
    out, _, code = run("nuvia", str(jsonl(tmp_path, ROWS)), "--count")
    assert (out, code) == ("3\n", 0)


def test_no_match_exits_1_like_grep(tmp_path):
    out, _, code = run("introuvable", str(jsonl(tmp_path, ROWS)), "--count")
    assert (out, code) == ("0\n", 1)


def test_explain_shows_which_terms_matched_and_where(tmp_path):
    out, _, _ = run('nuvia NEAR/2 panne OR "great job" -test', str(jsonl(tmp_path, ROWS)),
                    "--explain")
    blocks = out.split("\n{")
    first = blocks[0].splitlines()
    assert first[0].startswith('{"text": "Encore une panne chez Nuvia')
    assert first[1].split() == ["+", "nuvia", "NEAR/2", "panne", "text", "11-27",
                                "“panne", "chez", "Nuvia”"]
    assert first[2].split()[:3] == ["-", '"great', 'job"']
    assert "not found" in first[2]
    assert first[3].split()[:2] == ["-", "test"] and "excluded" in first[3]
    assert "text 29-38 “great job”" in blocks[1]


def test_plain_text_lines_and_standard_input(monkeypatch):
    data = "Nuvia en panne\nrien\n\nl'hôtel NUVIA\n".encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    out, err, code = run("nuvia")
    assert out.splitlines() == ["Nuvia en panne", "l'hôtel NUVIA"]
    assert (err, code) == ("", 0)


def test_a_dash_reads_standard_input(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"text": "nuvia"}\n')))
    assert run("nuvia", "-")[0] == '{"text": "nuvia"}\n'


def test_unreadable_lines_are_reported_with_their_number_and_skipped(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        b'{"text": "nuvia one"}\n'
        b"not json at all\n"
        b'{"text": 42}\n'
        b'["nuvia"]\n'
        b'{"text": "nuvia \xff\xfe"}\n'
        b'{"text": "nuvia five", "followers": "many"}\n'
        b'{"text": "nuvia six", "lang": 3}\n'
        b'{"text": "nuvia seven"}\n'
    )
    out, err, code = run("nuvia", str(path))
    assert out.splitlines() == ['{"text": "nuvia one"}', '{"text": "nuvia seven"}']
    reported = [line.split(":")[0] for line in err.splitlines()]
    assert reported == ["line 2", "line 3", "line 4", "line 5", "line 6", "line 7"]
    assert "invalid JSON" in err and "UTF-8" in err and "followers" in err
    assert code == 0


def test_format_text_reads_json_looking_lines_as_text(tmp_path):
    path = jsonl(tmp_path, [{"text": "rien"}])
    out, _, _ = run("text", str(path), "--format", "text")
    assert out == '{"text": "rien"}\n'


def test_a_bad_query_is_refused_with_its_position_and_a_caret(tmp_path):
    with pytest.raises(CommandError) as caught:
        run("nuvia OR", str(jsonl(tmp_path, ROWS)))
    assert caught.value.returncode == 2
    message, shown, caret = str(caught.value).splitlines()
    assert message == "Expected a term after OR at position 9"
    assert shown == "  nuvia OR"
    assert caret == "  " + " " * 8 + "^"


def test_the_error_is_in_the_active_language(tmp_path):
    with translation.override("fr"), pytest.raises(CommandError) as caught:
        run("nuvia (panne", str(jsonl(tmp_path, ROWS)))
    message, _, caret = str(caught.value).splitlines()
    assert message.startswith("La parenthèse ouverte à la position 7 n’est pas fermée")
    assert caret == "  " + " " * 6 + "^"


def test_a_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(CommandError) as caught:
        run("nuvia", str(tmp_path / "absent.jsonl"))
    assert caught.value.returncode == 2


def test_control_characters_in_mentions_do_not_reach_the_query_caret(tmp_path):
    with pytest.raises(CommandError) as caught:
        run("\x1b[31mnuvia OR", str(jsonl(tmp_path, ROWS)))
    assert "\x1b" not in str(caught.value)


def test_the_console_command_exits_with_the_documented_status(tmp_path):
    path = jsonl(tmp_path, ROWS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEILLEUR_", "DJANGO_"))}
    env["VEILLEUR_DATA_DIR"] = str(tmp_path / "data")
    command = [sys.executable, "-m", "veilleur", "match"]
    found = subprocess.run([*command, "coupure", str(path)], env=env, capture_output=True,
                           text=True, timeout=60, check=False)
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines() == [path.read_text(encoding="utf-8").splitlines()[3]]
    bad = subprocess.run([*command, "(nuvia", str(path)], env=env, capture_output=True,
                         text=True, timeout=60, check=False)
    assert bad.returncode == 2
    assert "position 1" in bad.stderr and "^" in bad.stderr
    none = subprocess.run([*command, "zzz", "-"], env=env, input="nuvia\n",
                          capture_output=True, text=True, timeout=60, check=False)
    assert (none.returncode, none.stdout) == (1, "")
