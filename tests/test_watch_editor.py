"""The watch editor: create/edit with a validated query, live check and preview."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.fakes import install_fake_connector, make_mention, raw_item
from veilleur.monitoring.models import Mention, Source, Watch
from veilleur.monitoring.pipeline import poll_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def feed(acme, monkeypatch):
    install_fake_connector(monkeypatch)
    return Source.objects.create(workspace=acme, name="feed", kind="fake", config={"name": "f"})


def recent(feed, text, **fields):
    fields.setdefault("published_at", timezone.now() - timedelta(hours=1))
    return make_mention(feed, text, **fields)


def test_an_owner_creates_a_watch_that_is_applied_to_recent_mentions(client_of, alice, feed):
    hit = recent(feed, "Panne Fibrelune à Lyon", lang="fr")
    recent(feed, "Rien à voir", lang="fr")
    response = client_of(alice).post(
        "/watches/new/", {"name": "Fibrelune", "query": "fibrelune NOT test", "languages": ["fr"],
                          "is_active": "on"},
    )
    assert response.status_code == 302
    watch = Watch.objects.get(name="Fibrelune")
    assert watch.workspace == feed.workspace and watch.languages == ["fr"]
    assert list(watch.mentions.all()) == [hit]


def test_an_invalid_query_is_refused_in_the_users_language(client_of, alice, feed):
    alice.language = "fr"
    alice.save()
    response = client_of(alice).post("/watches/new/", {"name": "X", "query": "fibrelune OR"})
    assert response.status_code == 200
    assert "position" in response.content.decode() and "Terme attendu" in response.content.decode()
    assert not Watch.objects.filter(name="X").exists()


def test_editing_a_query_relinks_recent_mentions(client_of, alice, feed):
    old = recent(feed, "panne générale")
    new = recent(feed, "coupure générale")
    watch = Watch.objects.create(workspace=feed.workspace, name="W", query="panne")
    old.watches.add(watch)
    response = client_of(alice).post(
        f"/watches/{watch.pk}/edit/", {"name": "W", "query": "coupure", "is_active": "on"}
    )
    assert response.status_code == 302
    assert list(watch.mentions.all()) == [new]


def test_the_check_points_at_the_mistake(client_of, alice, feed):
    response = client_of(alice).post("/watches/check/", {"query": "(fibrelune OR panne"})
    html = response.content.decode()
    assert response.status_code == 200 and "query-error" in html
    assert '<mark class="query-problem">' in html


def test_the_check_previews_matches_with_escaped_highlights(client_of, alice, feed):
    recent(feed, "<script>alert(1)</script> Fibrelune encore en panne")
    recent(feed, "Un autre opérateur")
    response = client_of(alice).post("/watches/check/", {"query": "fibrelune"})
    html = response.content.decode()
    assert "query-ok" in html and "1 of the 2 latest" in html
    assert "<mark>Fibrelune</mark>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_responder_cannot_edit_or_check(client_of, bob, feed):
    watch = Watch.objects.create(workspace=feed.workspace, name="W", query="x")
    client = client_of(bob)
    assert client.get("/watches/new/").status_code == 403
    assert client.post(f"/watches/{watch.pk}/edit/", {"name": "W", "query": "y"}).status_code == 403
    assert client.post("/watches/check/", {"query": "x"}).status_code == 403
    assert "/watches/new/" not in client.get("/watches/").content.decode()


def test_an_outsider_cannot_reach_another_workspaces_watch(client_of, charlie, acme):
    watch = Watch.objects.create(workspace=acme, name="W", query="x")
    assert client_of(charlie).get(f"/watches/{watch.pk}/edit/").status_code == 404


def test_an_outsider_preview_never_shows_other_workspaces_mentions(client_of, charlie, feed):
    recent(feed, "Fibrelune secret interne")
    html = client_of(charlie).post("/watches/check/", {"query": "fibrelune"}).content.decode()
    assert "secret interne" not in html and "0 of the 0 latest" in html


@pytest.mark.storage
def test_the_pipeline_matches_with_fields_and_negation(acme, feed):
    Watch.objects.create(workspace=acme, name="FR", query="fibrelune lang:fr -test")
    Watch.objects.create(workspace=acme, name="Big", query="fibrelune followers:>10000")
    from tests.fakes import FakeConnector

    FakeConnector.queue("f", [
        raw_item("a", "Fibrelune en panne", lang_hint="fr", author_followers=50),
        raw_item("b", "Fibrelune test", lang_hint="fr"),
        raw_item("c", "Fibrelune down again", lang_hint="en", author_handle="@big",
                 author_followers=250_000),
    ])
    poll_source(feed.pk)
    linked = {m.external_id: sorted(w.name for w in m.watches.all()) for m in Mention.objects.all()}
    assert linked == {"a": ["FR"], "b": [], "c": ["Big"]}
