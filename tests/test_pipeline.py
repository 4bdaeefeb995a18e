"""The ingestion pipeline: idempotent storage, atomic cursor, crash safety, matching."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from django.db import connection

from tests.fakes import NOW, PagedConnector, item
from veilleur.connectors import registry
from veilleur.connectors.base import Batch, RawItem
from veilleur.monitoring import pipeline
from veilleur.monitoring.models import Health, Mention, Source, Watch
from veilleur.monitoring.pipeline import poll_source, store_batch

pytestmark = pytest.mark.storage


@pytest.fixture
def paged(monkeypatch):
    monkeypatch.setitem(registry.KINDS, "paged", "tests.fakes:PagedConnector")
    monkeypatch.setattr(PagedConnector, "ITEMS", [item(n) for n in range(1, 8)])
    return PagedConnector


@pytest.fixture
def source(acme, paged):
    Watch.objects.create(workspace=acme, name="Nuvia", query="nuvia")
    Watch.objects.create(workspace=acme, name="Other", query="globex")
    return Source.objects.create(workspace=acme, name="feed", kind="paged", config={"page": 3})


def test_it_stores_pages_and_advances_the_cursor(source):
    reports = [poll_source(source.pk, NOW) for _ in range(3)]
    assert [r.stored for r in reports] == [3, 3, 1]
    assert [r.more for r in reports] == [True, True, False]
    source.refresh_from_db()
    assert source.cursor == 7 and source.cursor_version == 3
    assert source.health == Health.OK and source.last_success_at == NOW
    assert Mention.objects.filter(source=source).count() == 7


def test_it_matches_mentions_against_the_workspace_watches(source, globex):
    Watch.objects.create(workspace=globex, name="Nuvia elsewhere", query="nuvia")
    poll_source(source.pk, NOW)
    mention = Mention.objects.filter(source=source).first()
    assert [w.name for w in mention.watches.all()] == ["Nuvia"]


def test_it_fills_authors_and_reach(source):
    poll_source(source.pk, NOW)
    mention = Mention.objects.get(external_id="id-2")
    assert mention.author.handle == "@user2" and mention.author.platform == "testnet"
    assert mention.reach == 200 and mention.lang == "en"


def test_the_same_batch_twice_stores_nothing_twice(source):
    batch = Batch(items=PagedConnector.ITEMS[:4], cursor=4)
    first = store_batch(source, batch, expected_version=0, now=NOW)
    source.refresh_from_db()
    second = store_batch(source, batch, expected_version=1, now=NOW)
    assert (first.stored, second.stored, second.skipped) == (4, 0, 4)
    assert Mention.objects.count() == 4


def test_duplicate_ids_within_one_batch_are_stored_once(source):
    batch = Batch(items=[item(1), item(1, text="edited copy"), item(2)], cursor=1)
    report = store_batch(source, batch, expected_version=0, now=NOW)
    assert report.stored == 2
    assert Mention.objects.get(external_id="id-1").text == "Message 1 about Nuvia"


def test_a_stale_cursor_drops_the_batch(source):
    poll_source(source.pk, NOW)
    with pytest.raises(pipeline.StaleCursor):
        store_batch(source, Batch(items=[item(99)], cursor=1), expected_version=0, now=NOW)
    assert not Mention.objects.filter(external_id="id-99").exists()


def test_a_failure_inside_the_transaction_loses_and_doubles_nothing(source, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(pipeline, "_match_watches", explode)
    report = poll_source(source.pk, NOW)
    source.refresh_from_db()
    assert Mention.objects.count() == 0 and source.cursor is None and source.cursor_version == 0
    # Recorded as a failure with backoff, and the lease is given back.
    assert report.health == Health.DEGRADED and "worker died" in source.last_error
    assert source.lease_until is None and source.next_poll_at > NOW
    monkeypatch.undo()
    registry.KINDS["paged"] = "tests.fakes:PagedConnector"
    PagedConnector.ITEMS = [item(n) for n in range(1, 8)]
    while poll_source(source.pk, NOW).more:
        pass
    assert Mention.objects.count() == 7
    assert len(set(Mention.objects.values_list("external_id", flat=True))) == 7


CRASHING_POLL = textwrap.dedent(
    """
    import os, django
    django.setup()
    from veilleur.connectors import registry
    from veilleur.monitoring import pipeline
    from tests.fakes import PagedConnector, item
    registry.KINDS["paged"] = "tests.fakes:PagedConnector"
    PagedConnector.ITEMS = [item(n) for n in range(1, 8)]

    def die(source, mentions, *rest):
        # Mentions are written but not committed: the process vanishes right here.
        assert mentions
        os._exit(137)

    pipeline._match_watches = die
    pipeline.poll_source(int(os.environ["SOURCE_ID"]))
    """
)


@pytest.mark.django_db(transaction=True)
def test_a_killed_process_between_fetch_and_commit_loses_and_doubles_nothing(acme, paged):
    source = Source.objects.create(workspace=acme, name="feed", kind="paged", config={"page": 3})
    env = dict(os.environ, SOURCE_ID=str(source.pk), DJANGO_SETTINGS_MODULE="veilleur.settings")
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        env["VEILLEUR_DATABASE_URL"] = f"sqlite:///{settings_dict['NAME']}"
    else:
        env["VEILLEUR_DATABASE_URL"] = (
            f"postgresql://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:"
            f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
        )
    done = subprocess.run(
        [sys.executable, "-c", CRASHING_POLL], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 137, done.stderr
    source.refresh_from_db()
    assert Mention.objects.count() == 0 and source.cursor_version == 0
    while poll_source(source.pk).more:
        pass
    assert Mention.objects.count() == 7


def test_invalid_items_are_counted_not_fatal(source, monkeypatch):
    monkeypatch.setattr(
        PagedConnector, "ITEMS", [item(1), RawItem(external_id="", text="x"), RawItem("e", "  ")]
    )
    report = poll_source(source.pk, NOW)
    assert (report.stored, report.invalid) == (1, 2)
    assert "no id" in report.invalid_reasons[0]


def test_a_source_bound_to_a_watch_attaches_every_mention_to_it(acme, paged):
    watch = Watch.objects.create(workspace=acme, name="Imported", query="zzz-never")
    source = Source.objects.create(workspace=acme, name="f", kind="paged", config={}, watch=watch)
    poll_source(source.pk, NOW)
    assert watch.mentions.count() == 7
