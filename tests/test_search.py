"""Full-text search: matching (accents, elision, phrases, prefixes), hostile input, workspace
isolation, index sync, newest-first order, safe highlighting, API, UI and CLI.

Runs on SQLite (FTS5) and on PostgreSQL (``VEILLEUR_TEST_DATABASE=postgres``).
"""

from __future__ import annotations

import random
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from tests.fakes import NOW, FakeConnector, install_fake_connector, make_mention, raw_item
from veilleur.accounts.models import ApiToken, Role
from veilleur.monitoring.models import Mention, Source
from veilleur.monitoring.pipeline import poll_source
from veilleur.monitoring.queries import MentionFilter, filter_mentions
from veilleur.search import services
from veilleur.search.highlight import highlight
from veilleur.search.query import parse, to_fts5
from veilleur.search.services import search_mentions

pytestmark = [pytest.mark.django_db, pytest.mark.storage]
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite FTS5 only")

HOSTILE_QUERIES = [
    '"', '""', '"unterminated', "(", ")", "((panne", "NEAR(panne client)", "panne NEAR/2 client",
    "AND", "OR", "NOT", "panne OR", "AND panne", "*", "**", "panne*client", "^panne", "^",
    "title:panne", "text : panne", "{title text}: panne", "workspace_id:1", "- -", "-", '-"',
    "-panne", "'; DROP TABLE monitoring_mention; --", "\x00", "\\", ":", "%", "_", "a" * 500,
    "é*", "p*", "panne\"client", "col:", "+", "@", "#", "“panne”", "panne:*", "!panne", "&|",
]


def ids(mentions) -> set[int]:
    return {m.pk for m in mentions}


def found(workspace, text: str, **kwargs) -> list[int]:
    return search_mentions(workspace, text, **kwargs).ids


@pytest.fixture
def feed(acme):
    return Source.objects.create(workspace=acme, name="Feed", kind="rss")


@pytest.fixture
def corpus(feed):
    """French and English mentions with accents, elisions, phrases and prefixes."""
    made = {
        "degoute": make_mention(feed, "Client dégoûté par la Nuvia Box", lang="fr"),
        "hotel": make_mention(feed, "On a dormi à l’hôtel, et l'hôtel était sale", lang="fr"),
        "service": make_mention(feed, "Le service client ne répond jamais", lang="fr"),
        "reverse": make_mention(feed, "Un client du service après-vente", lang="fr"),
        "refund": make_mention(feed, "Remboursement promis, jamais reçu", lang="fr"),
        "refunded": make_mention(feed, "Finally refunded after two weeks", lang="en"),
        "outage": make_mention(feed, "Another outage in Leeds this morning", lang="en",
                               title="Broadband down"),
    }
    for n, mention in enumerate(made.values()):
        # Distinct times, newest last created, so "newest first" is checkable.
        Mention.objects.filter(pk=mention.pk).update(published_at=NOW - timedelta(hours=10 - n))
    return made


# --- what matches -----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["degoute", "DÉGOÛTÉ", "dégoûté", "Degoûte"])
def test_accents_and_case_are_folded(acme, corpus, text):
    assert corpus["degoute"].pk in found(acme, text)


@pytest.mark.parametrize("text", ["hôtel", "hotel", "HOTEL"])
def test_french_elision_separates_the_article(acme, corpus, text):
    assert found(acme, text) == [corpus["hotel"].pk]


def test_a_phrase_matches_those_words_in_that_order(acme, corpus):
    assert found(acme, '"service client"') == [corpus["service"].pk]
    assert set(found(acme, "service client")) == {corpus["service"].pk, corpus["reverse"].pk}


def test_a_prefix_matches_every_word_starting_with_it(acme, corpus):
    assert set(found(acme, "rembours*")) == {corpus["refund"].pk}
    assert set(found(acme, "refund*")) == {corpus["refunded"].pk}


def test_words_match_whole_words_not_substrings(acme, corpus):
    # (PostgreSQL also stems: "outag" would find "outage" there, "refunds" "refunded".)
    assert found(acme, "utage") == [] and found(acme, "eeds") == []
    assert found(acme, "outage") == [corpus["outage"].pk]
    assert found(acme, "Leeds") == [corpus["outage"].pk]


def test_the_title_is_searched_too(acme, corpus):
    assert found(acme, "broadband") == [corpus["outage"].pk]


def test_an_excluded_word_removes_mentions(acme, corpus):
    assert set(found(acme, "client -dégoûté")) == {corpus["service"].pk, corpus["reverse"].pk}
    assert found(acme, 'client -"service client" -degoute') == [corpus["reverse"].pk]


def test_only_exclusions_or_no_words_find_nothing(acme, corpus):
    assert found(acme, "-client") == []
    assert found(acme, "!!! ???") == []
    assert filter_mentions(Mention.objects.all(), MentionFilter(text="()")).count() == 0


def test_search_combines_with_the_other_filters(acme, corpus):
    english = MentionFilter(lang="en")
    assert found(acme, "refunded outage", filters=english) == []
    assert found(acme, "refunded", filters=english) == [corpus["refunded"].pk]
    assert found(acme, "remboursement", filters=english) == []


@pytest.mark.parametrize("text", HOSTILE_QUERIES)
def test_no_query_string_is_an_error(acme, corpus, text):
    page = search_mentions(acme, text)
    assert page.total == len(page.ids)
    filter_mentions(Mention.objects.all(), MentionFilter(text=text)).count()
    search_mentions(acme, text, sort="relevance")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('panne "service client" rembours* -nuvia', '(("panne" AND "service client" AND '
                                                    '"rembours" *) NOT "nuvia")'),
        # Punctuation inside a piece joins its words into a phrase, as in "l'hôtel".
        ("NEAR(a b) title:x", '("NEAR a" AND "b" AND "title x")'),
        ('a"b', '("a b")'),
        ("p* ab*", '("p" AND "ab")'),  # prefixes shorter than 3 letters are plain words
    ],
)
def test_user_input_becomes_quoted_fts5_strings(text, expected):
    assert to_fts5(parse(text)) == "{title text} : " + expected


def test_queries_are_bounded():
    query = parse(" ".join(f"w{n}" for n in range(100)) + " " + "x" * 1000)
    assert len(query.include) == 12
    assert all(len(w) <= 64 for t in query.include for w in t.words)


# --- isolation and index sync -----------------------------------------------------------


def test_a_workspace_never_finds_another_workspaces_mentions(acme, globex, feed):
    mine = make_mention(feed, "Panne générale chez Acme")
    other_source = Source.objects.create(workspace=globex, name="G", kind="rss")
    theirs = make_mention(other_source, "Panne générale chez Globex")
    assert found(acme, "panne") == [mine.pk]
    assert found(globex, "panne") == [theirs.pk]
    assert found(globex, "panne", sort="relevance") == [theirs.pk]


def test_the_index_follows_create_update_and_delete(acme, feed):
    mention = make_mention(feed, "La fibre est coupée")
    assert found(acme, "fibre") == [mention.pk]
    mention.text = "Le cuivre est coupé"
    mention.save()
    assert found(acme, "fibre") == [] and found(acme, "cuivre") == [mention.pk]
    Mention.objects.filter(pk=mention.pk).update(title="Coupure de courant")
    assert found(acme, "courant") == [mention.pk]
    Mention.objects.filter(pk=mention.pk).update(status="reviewed")  # not indexed: no change
    assert found(acme, "cuivre") == [mention.pk]
    mention.delete()
    assert found(acme, "cuivre") == [] and found(acme, "courant") == []


def test_mentions_stored_by_the_pipeline_are_searchable(acme, monkeypatch):
    install_fake_connector(monkeypatch)
    source = Source.objects.create(workspace=acme, name="Fake", kind="fake",
                                   config={"name": "search-feed"})
    FakeConnector.queue("search-feed", [
        raw_item("s1", "Grosse panne de la box ce matin"),
        raw_item("s2", "Tout fonctionne parfaitement"),
    ])
    poll_source(source.pk, NOW)
    stored = Mention.objects.get(source=source, external_id="s1")
    assert found(acme, "panne") == [stored.pk]


def test_bulk_created_mentions_are_searchable(acme, feed):
    Mention.objects.bulk_create([
        Mention(workspace=acme, source=feed, external_id=f"b{n}", text=f"lot numéro {n} livré",
                published_at=NOW - timedelta(minutes=n), content_hash=f"{n:040d}")
        for n in range(30)
    ])
    page = search_mentions(acme, "livre", limit=10)
    assert len(page.ids) == 10 and page.total == 30 and page.has_more


def test_deleting_a_source_removes_its_mentions_from_the_index(acme, feed):
    make_mention(feed, "Zeppelin en vue")
    feed.delete()
    assert found(acme, "zeppelin") == []


@on_sqlite
def test_the_index_matches_the_mentions_after_all_writes(acme, feed, corpus):
    Mention.objects.filter(pk=corpus["hotel"].pk).update(text="autre chose")
    corpus["refund"].delete()
    assert services.check() == []


@on_sqlite
def test_triggers_lost_in_a_table_rebuild_are_restored_after_migrate(acme, feed):
    from veilleur.search.apps import restore_sqlite_triggers
    from veilleur.search.schema import SQLITE_TRIGGERS, missing_triggers

    with connection.cursor() as cursor:
        for name in SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    assert set(missing_triggers(connection)) == set(SQLITE_TRIGGERS)
    assert any("missing sync triggers" in p for p in services.check())
    restore_sqlite_triggers(using="default")
    assert missing_triggers(connection) == []
    mention = make_mention(feed, "Triggers restaurés")
    assert found(acme, "restaurés") == [mention.pk]


@on_sqlite
def test_reindex_repairs_an_index_that_missed_writes(acme, feed):
    from veilleur.search.schema import SQLITE_TRIGGERS

    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER search_mention_fts_insert")
    missed = make_mention(feed, "Invisible sans réindexation")
    assert found(acme, "invisible") == []
    out = StringIO()
    call_command("search", "reindex", stdout=out)
    assert "search_mention_fts_insert" in out.getvalue()
    assert "1 mention(s)" in out.getvalue()
    assert found(acme, "invisible") == [missed.pk]
    assert len(SQLITE_TRIGGERS) == 3 and services.check() == []


def test_reindex_works_on_every_database(acme, corpus):
    if connection.vendor == "postgresql":
        # Run the deferred foreign-key checks of this test's inserts now: PostgreSQL
        # refuses to rebuild an index of a table with pending trigger events.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    out = StringIO()
    call_command("search", "reindex", stdout=out)
    assert "7 mention(s)" in out.getvalue()
    assert corpus["degoute"].pk in found(acme, "degoute")
    call_command("search", "check", stdout=StringIO())


# --- order and paging -------------------------------------------------------------------


def test_results_are_newest_first_by_publication_not_by_storage(acme, feed):
    old_late = make_mention(feed, "panne ancienne importée tard",
                            published_at=NOW - timedelta(days=30))
    recent = make_mention(feed, "panne récente", published_at=NOW - timedelta(hours=1))
    middle = make_mention(feed, "panne d'hier", published_at=NOW - timedelta(days=1))
    # Created last, published before everything: ids and times disagree.
    oldest = make_mention(feed, "panne archivée", published_at=NOW - timedelta(days=90))
    assert found(acme, "panne") == [recent.pk, middle.pk, old_late.pk, oldest.pk]
    assert found(acme, "panne", limit=2, offset=1) == [middle.pk, old_late.pk]


def test_relevance_puts_the_best_match_first(acme, feed):
    weak = make_mention(feed, "une panne parmi beaucoup d'autres mots sans rapport aucun ici")
    strong = make_mention(feed, "panne panne panne", published_at=NOW - timedelta(days=3))
    assert found(acme, "panne") == [weak.pk, strong.pk]
    assert found(acme, "panne", sort="relevance") == [strong.pk, weak.pk]


@pytest.mark.parametrize(
    ("first_chunk", "max_late", "max_walk"),
    [(256, 2000, 40_000), (2, 2000, 40_000), (2, 1, 40_000), (2, 2000, 4)],
    ids=["one-chunk", "walk-and-late", "late-fallback", "walk-fallback"],
)
def test_every_paging_strategy_gives_the_exact_newest_first_order(
    acme, feed, monkeypatch, first_chunk, max_late, max_walk
):
    # Small limits force each path of the SQLite walk (the other databases sort in SQL).
    monkeypatch.setattr(services, "FIRST_CHUNK", first_chunk)
    monkeypatch.setattr(services, "MAX_LATE", max_late)
    monkeypatch.setattr(services, "MAX_WALK", max_walk)
    rng = random.Random(7)
    words = ["panne", "fibre", "client", "box"]
    for n in range(80):
        text = " ".join(rng.sample(words, k=rng.randint(1, 3)))
        # Mostly in id order, with back-dated and future-dated ones mixed in.
        hours = n + rng.choice([0, 0, 0, rng.randint(-60, 60)])
        make_mention(feed, text, published_at=NOW + timedelta(hours=hours),
                     lang=rng.choice(["fr", "en"]))
    for text in ["panne", "panne fibre", "client -box"]:
        for filters in [None, MentionFilter(lang="fr")]:
            reference = list(
                filter_mentions(Mention.objects.for_workspace(acme),
                                MentionFilter(text=text, lang=filters.lang if filters else ""))
                .order_by("-published_at", "-id").values_list("id", flat=True)
            )
            for limit, offset in [(5, 0), (7, 3), (50, 0), (10, 40)]:
                page = search_mentions(acme, text, filters=filters, limit=limit, offset=offset)
                assert page.ids == reference[offset : offset + limit], (text, limit, offset)
                assert page.total == len(reference)
                assert page.has_more == (offset + limit < len(reference))


# --- highlighting -----------------------------------------------------------------------


HOSTILE = 'Attention <script>alert("x")</script> panne & \x02faux\x03 <mark>piège</mark> “panne”'


def test_highlights_escape_hostile_text_and_mark_only_hits(acme, feed):
    mention = make_mention(feed, HOSTILE, title="<b>Panne</b> du jour")
    page = search_mentions(acme, "panne")
    assert page.ids == [mention.pk]
    lit = page.highlights[mention.pk]
    assert "<script>" not in lit.text and "&lt;script&gt;" in lit.text
    assert "&lt;mark&gt;piège&lt;/mark&gt;" in lit.text  # the text's own tags stay text
    assert lit.text.count("<mark>") == 2 and lit.text.count("</mark>") == 2
    assert re.findall(r"<mark>(.*?)</mark>", lit.text) == ["panne", "panne"]
    assert "<b>" not in lit.title and re.findall(r"<mark>(.*?)</mark>", lit.title) == ["Panne"]


def test_marker_characters_in_a_text_cannot_forge_a_highlight(acme, feed):
    mention = make_mention(feed, "avant \x02forgé\x03 après panne")
    lit = search_mentions(acme, "panne").highlights[mention.pk]
    assert re.findall(r"<mark>(.*?)</mark>", lit.text) == ["panne"]


def test_a_long_text_is_cut_around_the_first_hit():
    text = "début " + "remplissage " * 200 + "la panne est là " + "suite " * 200
    lit = highlight("", text, parse("panne"))
    assert lit.text.startswith("… ") and lit.text.endswith(" …")
    assert "<mark>panne</mark>" in lit.text and len(lit.text) < 500


def test_python_highlighting_folds_like_the_index():
    lit = highlight("", "Un client DÉGOÛTÉ de l’hôtel, “service client” ok", parse(
        'degoute hotel "service client"'))
    assert re.findall(r"<mark>(.*?)</mark>", lit.text) == [
        "DÉGOÛTÉ", "hôtel", "service client"]


# --- API, UI, CLI -----------------------------------------------------------------------


def api(workspace, role=Role.VIEWER):
    from django.test import Client

    raw = ApiToken.issue(workspace, f"t-{workspace.slug}-{role}", role=role)[1]
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_the_api_searches_with_q_and_highlights(acme, corpus):
    client = api(acme)
    body = client.get("/api/mentions", {"q": "client"}).json()
    assert [i["id"] for i in body["items"]] == [corpus["reverse"].pk, corpus["service"].pk,
                                                corpus["degoute"].pk]
    assert body["count"] == 3 and body["next"] is None
    assert "<mark>client</mark>" in body["items"][0]["highlight"].lower()
    paged = client.get("/api/mentions", {"q": "client", "limit": 2}).json()
    assert paged["count"] == 3 and "offset=2" in paged["next"]
    assert client.get("/api/mentions").json()["items"][0]["highlight"] is None
    best = client.get("/api/mentions", {"q": "client", "sort": "relevance"})
    assert best.status_code == 200 and best.json()["count"] == 3
    assert client.get("/api/mentions", {"q": "x", "sort": "random"}).status_code == 422


def test_the_api_search_escapes_hostile_text(acme, feed):
    make_mention(feed, HOSTILE)
    item = api(acme).get("/api/mentions", {"q": "panne"}).json()["items"][0]
    assert "<script>" not in item["highlight"] and "&lt;script&gt;" in item["highlight"]
    assert item["text"] == HOSTILE  # the raw text is still there, as JSON data


def test_the_api_search_with_after_id_walks_forward_and_highlights(acme, corpus):
    body = api(acme).get("/api/mentions", {"q": "client", "after_id": 0}).json()
    assert [i["id"] for i in body["items"]] == sorted(
        [corpus["reverse"].pk, corpus["service"].pk, corpus["degoute"].pk])
    assert all("<mark>" in i["highlight"].lower() for i in body["items"])


@pytest.mark.parametrize("text", HOSTILE_QUERIES[:20])
def test_the_api_accepts_any_query_string(acme, corpus, text):
    response = api(acme).get("/api/mentions", {"q": text[:200]})
    assert response.status_code == 200, response.content


def test_an_outsider_never_sees_acme_hits(acme, globex, corpus, charlie, client_of):
    assert api(globex).get("/api/mentions", {"q": "client"}).json()["count"] == 0
    page = client_of(charlie).get(reverse("mentions"), {"q": "client"}).content.decode()
    assert "Le service client" not in page and "<mark>" not in page


def test_the_mentions_page_highlights_search_hits(acme, feed, alice, client_of):
    make_mention(feed, HOSTILE)
    make_mention(feed, "Rien à voir")
    page = client_of(alice).get(reverse("mentions"), {"q": "panne"}).content.decode()
    assert "<mark>panne</mark>" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "Rien à voir" not in page
    plain = client_of(alice).get(reverse("mentions")).content.decode()
    assert "<mark>" not in plain


def test_the_search_command_prints_results(acme, corpus):
    out = StringIO()
    call_command("search", "service", "client", workspace="acme", stdout=out)
    text = out.getvalue()
    assert "Le service client ne répond jamais" in text and "après-vente" in text
    assert "2 mention(s)" in text


def test_the_search_command_needs_a_workspace(acme, corpus):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--workspace"):
        call_command("search", "client", stdout=StringIO())
    with pytest.raises(CommandError, match="no workspace"):
        call_command("search", "client", workspace="nope", stdout=StringIO())
