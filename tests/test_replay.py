"""The replay connector: an accelerated clock over a recorded scenario file."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from veilleur.connectors.base import ConfigInvalid, SourceError
from veilleur.connectors.registry import get_connector
from veilleur.connectors.replay import ReplayConnector, load_scenario
from veilleur.core.demo_setup import DEMO_QUERY
from veilleur.demo import SCENARIO_PATH
from veilleur.monitoring.models import Health, Mention, Source, Watch
from veilleur.monitoring.pipeline import poll_source

T0 = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
HEADER = {"format": "veilleur-scenario", "version": 1, "fictional": True, "duration_s": 7200}


def line(offset: float, n: int, kind: str = "normal", **extra: object) -> dict[str, object]:
    record: dict[str, object] = {
        "offset_s": offset,
        "id": f"m{n}",
        "platform": "bluesky" if n % 2 else "forum",
        "author": {"handle": f"user{n}.bsky.example", "name": f"User {n}",
                   "followers": 10 * n, "verified": n == 3},
        "lang": "fr" if n % 2 else "en",
        "text": f"Fibrelune message {n}",
        "url": f"https://bsky.invalid/post/{n}",
        "kind": kind,
    }
    record.update(extra)
    return record


def write_scenario(path: Path, records: list[object], header: object = HEADER) -> Path:
    lines = [header, *records] if header is not None else list(records)
    text = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in lines) + "\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    # Deliberately written out of order: replay sorts by offset.
    records = [line(0, 1), line(10, 2), line(600, 4, "crisis"), line(20, 3), line(3600, 5)]
    return write_scenario(tmp_path / "week.jsonl.gz", records)


def config(path: Path, **overrides: object) -> dict[str, object]:
    return ReplayConnector().validate_config({"path": str(path), "speed": 10, **overrides})


def fetch_all(cfg: dict[str, object], times: list[datetime]) -> list[list[str]]:
    connector, cursor, out = ReplayConnector(), None, []
    for now in times:
        batch = connector.fetch(cfg, cursor, now)
        cursor = batch.cursor
        out.append([item.external_id for item in batch.items])
    return out


def test_the_registry_knows_the_replay_kind():
    assert get_connector("replay").kind == "replay"


def test_it_releases_only_what_the_accelerated_clock_has_reached(scenario):
    # speed 10: one real second is ten scenario seconds.
    times = [T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2),
             T0 + timedelta(seconds=59), T0 + timedelta(seconds=60), T0 + timedelta(hours=1)]
    assert fetch_all(config(scenario), times) == [
        ["m1"], ["m2"], ["m3"], [], ["m4"], ["m5"],
    ]


def test_a_faster_speed_releases_more_for_the_same_real_time(scenario):
    ids = fetch_all(config(scenario, speed=1000), [T0, T0 + timedelta(seconds=1)])
    assert ids == [["m1"], ["m2", "m3", "m4"]]


def test_the_default_anchor_puts_the_whole_scenario_in_the_past(scenario):
    connector = ReplayConnector()
    cfg = config(scenario, speed=100_000)
    first = connector.fetch(cfg, None, T0)
    assert first.cursor["started_at"] == T0.isoformat()
    # duration_s from the header (7200) even though the last line is at 3600.
    assert first.cursor["anchor"] == (T0 - timedelta(seconds=7200)).isoformat()
    later = connector.fetch(cfg, first.cursor, T0 + timedelta(seconds=1))
    published = {i.external_id: i.published_at for i in [*first.items, *later.items]}
    assert published["m1"] == T0 - timedelta(hours=2)
    assert published["m5"] == T0 - timedelta(hours=1)
    assert all(p <= T0 for p in published.values())


def test_without_a_header_the_duration_is_the_last_offset(tmp_path):
    path = write_scenario(tmp_path / "s.jsonl", [line(0, 1), line(500, 2)], header=None)
    batch = ReplayConnector().fetch(config(path), None, T0)
    assert batch.cursor["anchor"] == (T0 - timedelta(seconds=500)).isoformat()


def test_a_configured_anchor_is_used(scenario):
    anchor = "2026-01-01T00:00:00+00:00"
    batch = ReplayConnector().fetch(config(scenario, anchor=anchor), None, T0)
    assert batch.items[0].published_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_batches_are_bounded_and_say_more_is_due(scenario):
    connector = ReplayConnector()
    cfg = config(scenario, speed=100_000, batch_size=2)
    first = connector.fetch(cfg, None, T0)
    assert [i.external_id for i in first.items] == ["m1"] and first.more is False
    now = T0 + timedelta(seconds=1)
    second = connector.fetch(cfg, first.cursor, now)
    assert [i.external_id for i in second.items] == ["m2", "m3"] and second.more is True
    third = connector.fetch(cfg, second.cursor, now)
    assert [i.external_id for i in third.items] == ["m4", "m5"] and third.more is False
    assert third.cursor["position"] == 5


def test_a_cursor_resumes_where_it_stopped_and_the_end_stays_empty(scenario):
    connector = ReplayConnector()
    cfg = config(scenario)
    first = connector.fetch(cfg, None, T0)
    # The cursor is JSON: round-trip it as the database would.
    cursor = json.loads(json.dumps(first.cursor))
    resumed = connector.fetch(cfg, cursor, T0 + timedelta(seconds=2))
    assert [i.external_id for i in resumed.items] == ["m2", "m3"]
    assert resumed.cursor["started_at"] == first.cursor["started_at"]
    end = connector.fetch(cfg, resumed.cursor, T0 + timedelta(days=30))
    assert [i.external_id for i in end.items] == ["m4", "m5"]
    after = connector.fetch(cfg, end.cursor, T0 + timedelta(days=31))
    assert after.items == [] and after.more is False and after.cursor["position"] == 5


def test_items_carry_author_platform_language_url_title_and_kind(tmp_path):
    path = write_scenario(tmp_path / "s.jsonl", [line(0, 3, "crisis", title="Un titre")])
    item = ReplayConnector().fetch(config(path), None, T0).items[0]
    assert item.external_id == "m3" and item.text == "Fibrelune message 3"
    assert (item.author_handle, item.author_name) == ("user3.bsky.example", "User 3")
    assert item.author_followers == 30 and item.author_verified is True
    assert (item.platform, item.lang_hint, item.title) == ("bluesky", "fr", "Un titre")
    assert item.url == "https://bsky.invalid/post/3"
    assert dict(item.extra) == {"scenario_kind": "crisis"}


def test_a_corrupt_line_is_skipped_and_counted(tmp_path):
    records: list[object] = [
        line(0, 1), "{not json", json.dumps([1, 2]), {"offset_s": "soon", "id": "x"},
        {"offset_s": 5, "text": "no id"}, line(5, 2),
    ]
    path = write_scenario(tmp_path / "s.jsonl", records)
    batch = ReplayConnector().fetch(config(path, speed=1000), None, T0 + timedelta(seconds=0))
    later = ReplayConnector().fetch(config(path, speed=1000), batch.cursor,
                                    T0 + timedelta(seconds=1))
    assert [i.external_id for i in [*batch.items, *later.items]] == ["m1", "m2"]
    assert later.cursor["corrupt_lines"] == 4


def test_a_missing_file_is_a_permanent_error(tmp_path):
    cfg = {"path": str(tmp_path / "gone.jsonl"), "speed": 10}
    with pytest.raises(SourceError) as err:
        ReplayConnector().fetch(cfg, None, T0)
    assert err.value.permanent is True


@pytest.mark.parametrize("content", [b"\x1f\x8b\x08garbage", b"\xff\xfe\x00 not utf-8",
                                     b"{broken\nnot json either\n"])
def test_an_unreadable_file_is_a_permanent_error(tmp_path, content):
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(content)
    with pytest.raises(SourceError) as err:
        load_scenario(path)
    assert err.value.permanent is True


def test_a_corrupt_cursor_is_a_permanent_error(scenario):
    with pytest.raises(SourceError) as err:
        ReplayConnector().fetch(config(scenario), {"started_at": "yesterday"}, T0)
    assert err.value.permanent is True


@pytest.mark.parametrize(
    ("bad", "field"),
    [({"speed": 0}, "speed"), ({"speed": "fast"}, "speed"), ({"batch_size": 0}, "batch_size"),
     ({"batch_size": 10**6}, "batch_size"), ({"scenario": "nope"}, "scenario"),
     ({"path": "/etc/passwd"}, "path"), ({"anchor": "last tuesday"}, "anchor")],
)
def test_bad_configs_name_the_field(bad, field):
    with pytest.raises(ConfigInvalid, match=field):
        ReplayConnector().validate_config({"speed": 10, **bad})


def test_the_default_config_replays_the_bundled_scenario():
    cfg = ReplayConnector().validate_config({})
    assert cfg == {"scenario": "demo", "speed": 1.0, "batch_size": 500}
    connector = ReplayConnector()
    fast = {**cfg, "speed": 10_000_000.0, "batch_size": 5000}
    first = connector.fetch(fast, None, T0)
    everything = connector.fetch(fast, first.cursor, T0 + timedelta(seconds=1))
    total = len(first.items) + len(everything.items)
    assert total == load_scenario(SCENARIO_PATH).header["mentions"]
    assert everything.items[-1].published_at <= T0


# -- through the pipeline ------------------------------------------------------------------


@pytest.fixture
def replay_source(acme, scenario):
    Watch.objects.create(workspace=acme, name="Fibrelune", query=DEMO_QUERY)
    return Source.objects.create(
        workspace=acme, name="replay", kind="replay", config=config(scenario)
    )


@pytest.mark.storage
def test_polls_store_the_due_mentions_with_their_authors(replay_source):
    assert poll_source(replay_source.pk, T0).stored == 1
    report = poll_source(replay_source.pk, T0 + timedelta(seconds=2))
    assert report.stored == 2 and report.health == Health.OK
    mentions = {m.external_id: m for m in Mention.objects.filter(source=replay_source)}
    assert set(mentions) == {"m1", "m2", "m3"}
    m3 = mentions["m3"]
    assert m3.author.platform == "bluesky" and m3.author.followers == 30
    assert m3.author.verified and m3.lang == "fr" and m3.reach == 30
    assert m3.extra == {"scenario_kind": "normal"}
    assert m3.published_at == T0 - timedelta(seconds=7200 - 20)
    assert list(m3.watches.values_list("name", flat=True)) == ["Fibrelune"]
    replay_source.refresh_from_db()
    assert replay_source.cursor["position"] == 3


@pytest.mark.storage
def test_polling_again_at_the_same_moment_stores_nothing_twice(replay_source):
    poll_source(replay_source.pk, T0)
    again = poll_source(replay_source.pk, T0)
    assert again.stored == 0 and Mention.objects.filter(source=replay_source).count() == 1


@pytest.mark.storage
def test_a_missing_file_disables_the_source(acme, tmp_path):
    source = Source.objects.create(
        workspace=acme, name="gone", kind="replay",
        config={"path": str(tmp_path / "gone.jsonl"), "speed": 10},
    )
    report = poll_source(source.pk, T0)
    assert report.health == Health.DISABLED and "gone.jsonl" in report.error
