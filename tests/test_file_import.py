"""The file connector: vendor layouts, encodings, dates, bad rows, batches and resume."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from veilleur.connectors.base import ConfigInvalid, RawItem, SourceError
from veilleur.connectors.file_import import FileImportConnector
from veilleur.connectors.timestamps import (
    BadTimestamp,
    get_zone,
    infer_date_order,
    parse_timestamp,
)
from veilleur.connectors.vendor_formats import (
    MappingError,
    detect_vendor,
    load_mapping_file,
    normalise_lang,
    normalise_platform,
    parse_count,
)

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
NOW = datetime(2024, 4, 1, tzinfo=UTC)


def fetch_all(config: dict, cursor=None) -> tuple[list[RawItem], dict]:
    """Every item of the file, following ``more`` as the pipeline would."""
    connector = FileImportConnector()
    items: list[RawItem] = []
    for _ in range(1000):
        batch = connector.fetch(config, cursor, NOW)
        items.extend(batch.items)
        cursor = batch.cursor
        if not batch.more:
            return items, cursor
    raise AssertionError("the connector never finished")


def by_id(items: list[RawItem]) -> dict[str, RawItem]:
    return {item.external_id: item for item in items}


# --- vendor layouts -----------------------------------------------------------------------


def test_brandwatch_export_maps_its_documented_columns_after_the_preamble():
    items, cursor = fetch_all({"path": str(EXPORTS / "brandwatch_mentions.csv")})
    assert cursor["vendor"] == "brandwatch"
    assert cursor["invalid"] == 0
    assert cursor["header"][:3] == ["Query Id", "Query Name", "Date"]
    assert len(items) == 4
    tweet = by_id(items)["1765001"]  # "Resource Id"
    assert tweet.published_at == datetime(2024, 3, 5, 14, 2, 11, tzinfo=UTC)
    assert tweet.author_handle == "claire_dlv"
    assert tweet.author_name == "Claire Delaval"
    assert tweet.author_followers == 1204  # "1,204"
    assert tweet.platform == "twitter"
    assert tweet.lang_hint == "fr"
    assert tweet.reach == 1500  # "Reach (new)" before "Impressions"
    assert tweet.url == "https://twitter.com/claire_dlv/status/1765001"
    assert tweet.text.startswith("Troisième coupure")
    assert tweet.extra["columns"]["Sentiment"] == "negative"
    assert tweet.extra["import"]["row"] == 1
    fan = by_id(items)["1765002"]
    assert fan.author_followers == 98_500  # "98.5K"
    assert fan.author_verified is True
    assert fan.lang_hint == "en"


def test_brandwatch_quoted_multiline_text_and_snippet_fallback():
    items, _ = fetch_all({"path": str(EXPORTS / "brandwatch_mentions.csv")})
    article = next(i for i in items if i.platform == "news")
    assert "offline on Tuesday.\nThe operator apologised" in article.text
    assert article.title == "Nuvia Fibre: outage hits Lyon and Grenoble"
    assert article.external_id.startswith("sha1:")  # no Resource Id: a content hash
    reddit = by_id(items)["t3_abc123"]
    assert reddit.text == "Quelqu'un d'autre a des soucis avec Nuvia depuis hier ?"  # Snippet


def test_talkwalker_export_reads_epoch_milliseconds_and_dotted_columns():
    items, cursor = fetch_all({"path": str(EXPORTS / "talkwalker_results.csv")})
    assert cursor["vendor"] == "talkwalker"
    tweet = by_id(items)["1765003"]  # external_id of an X result, which has no url
    assert tweet.published_at == datetime.fromtimestamp(1709647331, UTC)
    assert tweet.platform == "twitter"  # SOCIALMEDIA_TWITTER
    assert tweet.author_handle == "sophie_b"
    assert tweet.author_name == "Sophie Bernard"
    assert tweet.author_followers == 5400
    assert tweet.url == ""
    blog = by_id(items)["https://blog.example.fr/nuvia-avis"]  # url is Talkwalker's key
    assert blog.platform == "blog"
    assert blog.title == "Mon avis sur Nuvia après 6 mois"
    forum = by_id(items)["https://forum.example.com/t/nuvia-router-reset/42"]
    assert forum.platform == "forum"  # MESSAGEBOARD_OTHER
    assert forum.lang_hint == "en"


def test_talkwalker_jsonl_flattens_nested_objects_and_reports_bad_lines():
    items, cursor = fetch_all({"path": str(EXPORTS / "talkwalker_results.jsonl")})
    assert cursor["format"] == "jsonl"
    assert cursor["vendor"] == "talkwalker"
    tweet = by_id(items)["1765010"]
    assert tweet.author_handle == "tomr"
    assert tweet.author_followers == 310
    assert tweet.platform == "twitter"  # from the list ["SOCIALMEDIA", "SOCIALMEDIA_TWITTER"]
    news = by_id(items)["https://news.example.org/nuvia-rachat"]
    assert news.author_name == "Rédaction Éco"
    assert news.reach == 120000
    assert cursor["invalid"] == 2
    assert cursor["errors"][0].startswith("row 3 (line 3): invalid JSON")
    assert cursor["errors"][1] == "row 4 (line 4): a line must hold a JSON object"


def test_mention_export_with_semicolons_and_day_first_dates():
    items, cursor = fetch_all({"path": str(EXPORTS / "mention_feed.csv")})
    assert cursor["vendor"] == "mention"
    assert cursor["delimiter"] == ";"
    assert cursor["date_order"] == "dmy"  # "25/03/2024" settles it for the whole file
    dates = sorted(item.published_at for item in items)
    assert dates == [
        datetime(2024, 3, 5, 14, 2, tzinfo=UTC),
        datetime(2024, 3, 6, 18, 45, tzinfo=UTC),
        datetime(2024, 3, 25, 9, 10, tzinfo=UTC),
    ]
    langs = {item.lang_hint for item in items}
    assert langs == {"fr", "en"}  # "French", "English"
    assert {item.platform for item in items} == {"twitter", "news", "instagram"}
    assert all(item.extra["columns"].get("Influence score") for item in items)


def test_windows_1252_export_is_detected_and_decoded():
    items, cursor = fetch_all({"path": str(EXPORTS / "mention_feed_windows1252.csv")})
    assert cursor["encoding"] == "cp1252"
    texts = " ".join(item.text + item.title for item in items)
    assert "Très déçu… l’augmentation du forfait Nuvia à 29,99 €" in texts
    assert {item.author_handle for item in items} == {"Hélène", "François"}


@pytest.mark.parametrize(
    ("name", "vendor"),
    [
        ("brandwatch_mentions.csv", "brandwatch"),
        ("talkwalker_results.csv", "talkwalker"),
        ("talkwalker_results.jsonl", "talkwalker"),
        ("mention_feed.csv", "mention"),
        ("mention_feed_windows1252.csv", "mention"),
        ("bad_rows.tsv", "generic"),
    ],
)
def test_it_detects_the_vendor_from_the_header(name, vendor):
    batch = FileImportConnector().fetch({"path": str(EXPORTS / name)}, None, NOW)
    assert batch.cursor["vendor"] == vendor


def test_detection_needs_signature_columns_not_just_common_ones():
    assert detect_vendor(["Date", "Title", "Author", "Language"]) is None
    assert detect_vendor(["Date", "Full Text", "Page Type", "Author"]).name == "brandwatch"


def test_an_explicit_vendor_that_does_not_fit_is_a_clear_permanent_error():
    with pytest.raises(SourceError) as exc:
        FileImportConnector().fetch(
            {"path": str(EXPORTS / "mention_feed.csv"), "vendor": "talkwalker"}, None, NOW)
    assert exc.value.permanent
    assert "no header row with the expected columns" in str(exc.value)


# --- user mappings -----------------------------------------------------------------------


@pytest.mark.parametrize("mapping_file", ["custom_mapping.json", "custom_mapping.toml"])
def test_a_mapping_file_maps_a_home_made_export(mapping_file):
    mapping = load_mapping_file(EXPORTS / mapping_file)
    items, cursor = fetch_all({"path": str(EXPORTS / "custom_export.csv"), "mapping": mapping})
    assert cursor["vendor"] == "mapping"
    first = by_id(items)["A-1"]
    assert first.published_at == datetime(2024, 3, 5, 8, 0, tzinfo=timezone(timedelta(hours=1)))
    assert first.author_followers == 420
    assert first.platform == "mastodon"
    assert first.url == "https://mastodon.example/@lea/1"
    assert first.extra["columns"] == {"Humeur": "fâché"}  # unmapped columns are kept


def test_a_mapping_naming_a_missing_column_says_which(tmp_path):
    with pytest.raises(SourceError) as exc:
        FileImportConnector().fetch(
            {"path": str(EXPORTS / "custom_export.csv"),
             "mapping": {"text": "Message", "published_at": "Created"}}, None, NOW)
    assert exc.value.permanent
    assert "Created" in str(exc.value)


def test_a_mapping_with_an_unknown_field_or_bad_file_is_rejected(tmp_path):
    bad = tmp_path / "m.json"
    bad.write_text('{"body": "Text"}')
    with pytest.raises(MappingError, match="unknown field 'body'"):
        load_mapping_file(bad)
    bad.write_text("{not json")
    with pytest.raises(MappingError, match="not valid JSON/TOML"):
        load_mapping_file(bad)
    with pytest.raises(MappingError, match="cannot read"):
        load_mapping_file(tmp_path / "missing.json")
    with pytest.raises(ConfigInvalid, match="mapping"):
        FileImportConnector().validate_config({"path": "x.csv", "mapping": {"title": 3}})


def test_a_mapping_can_list_fallback_columns(tmp_path):
    file = tmp_path / "f.csv"
    file.write_text("Body,Summary,When\n,short one,2024-03-01\nlong one,,2024-03-02\n")
    items, _ = fetch_all({"path": str(file),
                          "mapping": {"text": ["Body", "Summary"], "published_at": "When"}})
    assert [item.text for item in items] == ["short one", "long one"]


# --- bad rows, encodings, odd files -----------------------------------------------------------


def test_bad_rows_are_counted_with_row_number_and_reason():
    items, cursor = fetch_all({"path": str(EXPORTS / "bad_rows.tsv")})
    assert cursor["delimiter"] == "\t"
    assert [item.external_id for item in items] == ["b1", "b5"]
    assert cursor["invalid"] == 4
    assert cursor["errors"] == [
        "row 2 (line 3): unrecognised date 'not a date'",
        "row 3 (line 4): no text",
        "row 4 (line 5): 6 cells for 4 columns (unquoted delimiter?)",
        "row 6 (line 7): impossible date '31/02/2024 10:00': day is out of range for month",
    ]


def test_a_field_bigger_than_the_csv_default_limit_is_read(tmp_path):
    big = "é" * 300_000  # over csv's default 128 KiB field limit
    file = tmp_path / "big.csv"
    file.write_text(f'id,text\n1,"{big}"\n2,small\n', encoding="utf-8")
    items, cursor = fetch_all({"path": str(file)})
    assert [len(item.text) for item in items] == [300_000, 5]
    assert cursor["invalid"] == 0


def test_a_latin1_file_with_bytes_cp1252_leaves_undefined_still_decodes(tmp_path):
    file = tmp_path / "latin.csv"
    file.write_bytes("id,text\n1,caf\xe9 \x81 ok\n".encode("latin-1"))
    items, cursor = fetch_all({"path": str(file)})
    assert cursor["encoding"] == "latin-1"
    assert items[0].text.startswith("café")


def test_an_explicit_encoding_is_used(tmp_path):
    file = tmp_path / "forced.csv"
    file.write_bytes("id,text\n1,déjà vu\n".encode("cp1252"))
    items, cursor = fetch_all({"path": str(file), "encoding": "latin-1"})
    assert cursor["encoding"] == "iso8859-1"
    assert items[0].text == "déjà vu"


def test_utf16_files_are_refused_with_advice(tmp_path):
    file = tmp_path / "excel.txt"
    file.write_bytes("id\ttext\n1\tbonjour\n".encode("utf-16"))
    with pytest.raises(SourceError, match="UTF-16") as exc:
        FileImportConnector().fetch({"path": str(file)}, None, NOW)
    assert exc.value.permanent


def test_a_file_where_no_column_holds_text_asks_for_a_mapping(tmp_path):
    file = tmp_path / "numbers.csv"
    file.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(SourceError, match="mapping") as exc:
        FileImportConnector().fetch({"path": str(file)}, None, NOW)
    assert exc.value.permanent


def test_a_missing_file_is_a_permanent_error():
    with pytest.raises(SourceError, match="file not found") as exc:
        FileImportConnector().fetch({"path": "/nonexistent/export.csv"}, None, NOW)
    assert exc.value.permanent


def test_rows_without_id_get_a_stable_content_hash(tmp_path):
    file = tmp_path / "noid.csv"
    file.write_text("text,url,date\nhello,https://e.org/1,2024-03-01\nhello,https://e.org/2,2024-03-01\n")
    first, _ = fetch_all({"path": str(file)})
    again, _ = fetch_all({"path": str(file)})
    assert [i.external_id for i in first] == [i.external_id for i in again]
    assert first[0].external_id != first[1].external_id


def test_default_language_and_platform_apply_to_rows_that_do_not_say(tmp_path):
    file = tmp_path / "plain.csv"
    file.write_text("text,lang\nbonjour,\nhello,en\n")
    items, _ = fetch_all({"path": str(file), "lang": "fr", "platform": "Twitter"})
    assert [(i.lang_hint, i.platform) for i in items] == [("fr", "twitter"), ("en", "twitter")]


# --- batches, cursor and resume ---------------------------------------------------------------


def test_batches_follow_the_cursor_until_the_end_then_return_nothing(tmp_path):
    file = tmp_path / "bw.csv"
    shutil.copy(EXPORTS / "brandwatch_mentions.csv", file)
    connector = FileImportConnector()
    config = {"path": str(file), "batch_size": 3}
    first = connector.fetch(config, None, NOW)
    assert len(first.items) == 3 and first.more
    second = connector.fetch(config, first.cursor, NOW)
    assert len(second.items) == 1 and not second.more
    assert second.cursor["done"] and second.cursor["row"] == 4
    ids = {i.external_id for i in first.items} | {i.external_id for i in second.items}
    assert len(ids) == 4
    again = connector.fetch(config, second.cursor, NOW)
    assert again.items == [] and not again.more


def test_resuming_from_a_cursor_gives_the_same_rows_as_one_pass(tmp_path):
    whole, _ = fetch_all({"path": str(EXPORTS / "brandwatch_mentions.csv"), "batch_size": 1000})
    pieces, _ = fetch_all({"path": str(EXPORTS / "brandwatch_mentions.csv"), "batch_size": 1})
    assert [i.external_id for i in pieces] == [i.external_id for i in whole]
    assert [i.text for i in pieces] == [i.text for i in whole]


def test_rows_appended_later_are_read_on_from_the_cursor(tmp_path):
    file = tmp_path / "log.csv"
    file.write_text("id,text,date\n1,first,2024-03-01\n")
    items, cursor = fetch_all({"path": str(file)})
    assert [i.external_id for i in items] == ["1"]
    with file.open("a") as fh:
        fh.write("2,second,2024-03-02\n")
    more, cursor = fetch_all({"path": str(file)}, cursor)
    assert [i.external_id for i in more] == ["2"]


def test_a_replaced_file_is_read_again_from_the_start(tmp_path):
    file = tmp_path / "export.csv"
    file.write_text("id,text,date\n1,first,2024-03-01\n")
    _, cursor = fetch_all({"path": str(file)})
    file.write_text("id,text,date\n7,other,2024-03-01\n8,more,2024-03-02\n")
    items, _ = fetch_all({"path": str(file)}, cursor)
    assert [i.external_id for i in items] == ["7", "8"]


def test_a_finished_import_whose_file_was_removed_is_not_an_error(tmp_path):
    file = tmp_path / "gone.csv"
    file.write_text("id,text\n1,x\n")
    _, cursor = fetch_all({"path": str(file)})
    file.unlink()
    batch = FileImportConnector().fetch({"path": str(file)}, cursor, NOW)
    assert batch.items == [] and not batch.more


def test_changing_the_settings_starts_the_file_again(tmp_path):
    _, cursor = fetch_all({"path": str(EXPORTS / "mention_feed.csv")})
    items, _ = fetch_all({"path": str(EXPORTS / "mention_feed.csv"), "date_order": "mdy"}, cursor)
    assert len(items) == 3
    assert datetime(2024, 5, 3, 14, 2, tzinfo=UTC) in {i.published_at for i in items}


# --- config ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "path"),
        ({"path": "x.csv", "batch_size": 0}, "batch_size"),
        ({"path": "x.csv", "batch_size": "10"}, "batch_size"),
        ({"path": "x.csv", "vendor": "hootsuite"}, "vendor"),
        ({"path": "x.csv", "format": "xlsx"}, "format"),
        ({"path": "x.csv", "encoding": "klingon"}, "encoding"),
        ({"path": "x.csv", "encoding": "utf-16"}, "encoding"),
        ({"path": "x.csv", "timezone": "Mars/Olympus"}, "timezone"),
        ({"path": "x.csv", "lang": "??"}, "lang"),
        ({"path": "x.csv", "date_order": "ymd"}, "date_order"),
    ],
)
def test_validate_config_names_the_bad_field(config, message):
    with pytest.raises(ConfigInvalid, match=message):
        FileImportConnector().validate_config(config)


def test_validate_config_fills_defaults():
    clean = FileImportConnector().validate_config({"path": "~/x.csv", "lang": "fr-FR"})
    assert clean["path"].endswith("/x.csv") and not clean["path"].startswith("~")
    assert clean["batch_size"] == 1000
    assert clean["vendor"] == "auto" and clean["format"] == "auto"
    assert clean["lang"] == "fr"
    assert FileImportConnector().validate_config(clean) == clean  # idempotent


# --- timestamps and cell values ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1709647331", datetime(2024, 3, 5, 14, 2, 11, tzinfo=UTC)),
        ("1709647331000", datetime(2024, 3, 5, 14, 2, 11, tzinfo=UTC)),
        ("2024-03-05T14:02:11Z", datetime(2024, 3, 5, 14, 2, 11, tzinfo=UTC)),
        ("2024-03-05 14:02:11.0", datetime(2024, 3, 5, 14, 2, 11, tzinfo=UTC)),
        ("2024-03-05T15:02:11+01:00", datetime(2024, 3, 5, 14, 2, 11, tzinfo=UTC)),
        ("05/03/2024 14:02", datetime(2024, 3, 5, 14, 2, tzinfo=UTC)),
        ("25/03/2024", datetime(2024, 3, 25, tzinfo=UTC)),
        ("03/25/2024 2:02 PM", datetime(2024, 3, 25, 14, 2, tzinfo=UTC)),
        ("5.3.24 08:00", datetime(2024, 3, 5, 8, 0, tzinfo=UTC)),
        ("05/03/2024 14:02 +0100", datetime(2024, 3, 5, 13, 2, tzinfo=UTC)),
        ("March 5, 2024 14:02", datetime(2024, 3, 5, 14, 2, tzinfo=UTC)),
        ("5 mars 2024 14h02", datetime(2024, 3, 5, 14, 2, tzinfo=UTC)),
        ("1er avril 2024", datetime(2024, 4, 1, tzinfo=UTC)),
    ],
)
def test_vendor_timestamps_are_read(value, expected):
    assert parse_timestamp(value) == expected


def test_ambiguous_dates_follow_the_date_order_and_naive_ones_the_timezone():
    assert parse_timestamp("05/03/2024", date_order="mdy") == datetime(2024, 5, 3, tzinfo=UTC)
    assert parse_timestamp("05/03/2024", date_order="dmy") == datetime(2024, 3, 5, tzinfo=UTC)
    paris = parse_timestamp("2024-07-01 12:00", get_zone("Europe/Paris"))
    assert paris == datetime(2024, 7, 1, 10, 0, tzinfo=UTC)
    assert infer_date_order(["01/02/2024", "13/02/2024"]) == "dmy"
    assert infer_date_order(["02/13/2024"]) == "mdy"
    assert infer_date_order(["13/02/2024", "02/13/2024"]) is None  # the file contradicts itself
    assert infer_date_order(["2024-01-02"]) is None


@pytest.mark.parametrize("value", ["", "yesterday", "31/02/2024", "13:00 PM 01/01/2024",
                                   "2024-13-45", "99999999999999999"])
def test_unreadable_timestamps_say_why(value):
    with pytest.raises(BadTimestamp):
        parse_timestamp(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1,234", 1234), ("1 234", 1234), ("1.234", 1234), ("12.5K", 12500), ("2M", 2_000_000),
     ("1234.0", 1234), ("", None), ("n/a", None), ("-5", None), ("lots", None)],
)
def test_counts_in_vendor_spellings(value, expected):
    assert parse_count(value) == expected


def test_platform_and_language_names_are_normalised():
    assert normalise_platform("SOCIALMEDIA_TWITTER") == "twitter"
    assert normalise_platform("X") == "twitter"
    assert normalise_platform("ONLINENEWS_OTHER") == "news"
    assert normalise_platform("Some Thing!") == "some_thing"
    assert normalise_lang("Français") == "fr"
    assert normalise_lang("en-GB") == "en"
    assert normalise_lang("Klingon") == ""
