"""``veilleur import``: a file into a watch through the real pipeline, resumable."""

from __future__ import annotations

from importlib import import_module
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from veilleur.monitoring import pipeline
from veilleur.monitoring.models import Health, Mention, Source, Watch

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
pytestmark = [pytest.mark.django_db, pytest.mark.storage]


def run_import(*args: str) -> str:
    out = StringIO()
    call_command("import", *args, "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def watch(acme):
    return Watch.objects.create(workspace=acme, name="Nuvia", query="Nuvia")


def write_rows(path: Path, count: int) -> None:
    lines = ["id,text,date,author"]
    lines += [f"r{n},Message numéro {n} sur Nuvia,2024-03-0{1 + n % 9} 10:00,user{n % 3}"
              for n in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_it_imports_a_vendor_export_into_the_watch(watch):
    output = run_import(str(EXPORTS / "brandwatch_mentions.csv"), "--watch", "Nuvia")
    assert "Stored: 4" in output
    assert "Format: brandwatch, utf-8" in output
    assert "Invalid rows: 0" in output
    mentions = Mention.objects.filter(workspace=watch.workspace)
    assert mentions.count() == 4
    assert all(list(m.watches.all()) == [watch] for m in mentions)
    source = Source.objects.get(kind="file")
    assert source.watch == watch
    assert source.config["path"] == str((EXPORTS / "brandwatch_mentions.csv").resolve())
    tweet = mentions.get(external_id="1765001")
    assert tweet.author.handle == "claire_dlv"
    assert tweet.author.platform == "twitter"
    assert tweet.author.followers == 1204
    assert tweet.lang == "fr"


def test_reimporting_the_same_file_stores_nothing_twice(watch):
    file = str(EXPORTS / "mention_feed.csv")
    run_import(file, "--watch", "Nuvia")
    again = run_import(file, "--watch", "nuvia")  # watch names match case-insensitively
    assert "Nothing new" in again
    assert "Stored: 0" in again
    restarted = run_import(file, "--watch", "Nuvia", "--restart")
    assert "Stored: 0" in restarted
    assert "Skipped (already stored): 3" in restarted
    assert Mention.objects.count() == 3
    assert Source.objects.filter(kind="file").count() == 1


def test_changed_settings_reread_the_file_without_duplicates(watch):
    file = str(EXPORTS / "mention_feed.csv")
    run_import(file, "--watch", "Nuvia")
    output = run_import(file, "--watch", "Nuvia", "--date-order", "mdy")
    assert "Skipped (already stored): 3" in output  # same ids: stored rows are not updated
    assert Mention.objects.count() == 3


def test_invalid_rows_are_reported_with_their_reasons(watch):
    output = run_import(str(EXPORTS / "bad_rows.tsv"), "--watch", "Nuvia")
    assert "Stored: 2" in output
    assert "Invalid rows: 4" in output
    assert "row 2 (line 3): unrecognised date 'not a date'" in output
    assert "row 3 (line 4): no text" in output


def test_a_mapping_file_is_used(watch):
    output = run_import(str(EXPORTS / "custom_export.csv"), "--watch", "Nuvia",
                        "--mapping", str(EXPORTS / "custom_mapping.toml"))
    assert "Stored: 2" in output
    mention = Mention.objects.get(external_id="A-1")
    assert mention.author.platform == "mastodon"
    assert mention.extra["columns"] == {"Humeur": "fâché"}


def test_a_missing_file_is_a_usage_error(watch):
    with pytest.raises(CommandError, match="file not found") as exc:
        run_import("/nonexistent/export.csv", "--watch", "Nuvia")
    assert exc.value.returncode == 2


def test_an_unknown_watch_lists_the_existing_ones(watch, acme):
    Watch.objects.create(workspace=acme, name="Concurrent", query="Rival")
    with pytest.raises(CommandError) as exc:
        run_import(str(EXPORTS / "mention_feed.csv"), "--watch", "Nope")
    assert exc.value.returncode == 2
    assert "Nope" in str(exc.value)
    assert "Concurrent, Nuvia" in str(exc.value)
    assert Source.objects.count() == 0


def test_create_watch_creates_it_with_its_name_as_query(acme):
    output = run_import(str(EXPORTS / "mention_feed.csv"), "--watch", "Nuvia Fibre",
                        "--create-watch")
    watch = Watch.objects.get(workspace=acme, name="Nuvia Fibre")
    assert watch.query == '"Nuvia Fibre"'
    assert "created watch Nuvia Fibre" in output
    assert watch.mentions.count() == 3


def test_the_workspace_is_needed_only_when_there_are_several(watch, globex):
    file = str(EXPORTS / "mention_feed.csv")
    with pytest.raises(CommandError, match="several workspaces") as exc:
        run_import(file, "--watch", "Nuvia")
    assert exc.value.returncode == 2
    with pytest.raises(CommandError, match="existing: acme, globex"):
        run_import(file, "--watch", "Nuvia", "--workspace", "initech")
    assert "Stored: 3" in run_import(file, "--watch", "Nuvia", "--workspace", "acme")


def test_a_bad_mapping_file_is_a_usage_error(watch, tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text('{"corps": "Message"}')
    with pytest.raises(CommandError, match="unknown field 'corps'") as exc:
        run_import(str(EXPORTS / "custom_export.csv"), "--watch", "Nuvia",
                   "--mapping", str(mapping))
    assert exc.value.returncode == 2


def test_a_file_the_connector_cannot_read_fails_with_status_1(watch):
    with pytest.raises(CommandError, match="no header row with the expected columns") as exc:
        run_import(str(EXPORTS / "mention_feed.csv"), "--watch", "Nuvia", "--vendor", "talkwalker")
    assert exc.value.returncode == 1
    source = Source.objects.get(kind="file")
    assert source.health == Health.DISABLED
    # Fixing the command line re-enables the source and imports.
    output = run_import(str(EXPORTS / "mention_feed.csv"), "--watch", "Nuvia",
                        "--vendor", "mention")
    assert "Stored: 3" in output


def test_a_crash_mid_import_resumes_and_stores_every_row_exactly_once(watch, tmp_path, monkeypatch):
    file = tmp_path / "big.csv"
    write_rows(file, 25)
    real = pipeline._create_mentions
    calls = {"n": 0}

    def crash_on_second_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_create_mentions", crash_on_second_batch)
    with pytest.raises(CommandError, match="storing failed: RuntimeError: disk full"):
        run_import(str(file), "--watch", "Nuvia", "--batch-size", "10")
    assert Mention.objects.count() == 10  # the first batch was committed, the second rolled back
    assert Source.objects.get(kind="file").cursor["row"] == 10

    output = run_import(str(file), "--watch", "Nuvia", "--batch-size", "10")
    assert "Stored: 15" in output
    assert "Skipped (already stored): 0" in output
    ids = list(Mention.objects.values_list("external_id", flat=True))
    assert sorted(ids) == sorted(f"r{n}" for n in range(25))


def test_a_grown_file_imports_only_the_new_rows(watch, tmp_path):
    file = tmp_path / "growing.csv"
    write_rows(file, 5)
    run_import(str(file), "--watch", "Nuvia")
    with file.open("a", encoding="utf-8") as fh:
        fh.write("r99,Une ligne de plus,2024-03-09 10:00,user9\n")
    output = run_import(str(file), "--watch", "Nuvia")
    assert "Stored: 1" in output
    assert Mention.objects.count() == 6


def test_hostile_cell_text_is_neutralised_in_the_report(watch, tmp_path):
    file = tmp_path / "hostile.csv"
    file.write_text("id,text,date\nx1,ok,\x1b[31mred\u202e\x1b[0m\n", encoding="utf-8")
    output = run_import(str(file), "--watch", "Nuvia")
    assert "Invalid rows: 1" in output
    assert "\x1b" not in output and "\u202e" not in output
    safe = import_module("veilleur.monitoring.management.commands.import")._safe
    assert safe("a\x1b[2Jb\u202ec" + "x" * 500) == "a?[2Jb?c" + "x" * 291 + "…"
