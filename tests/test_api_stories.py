"""``/api/stories/{id}`` and the story fields of mentions: counts, members, isolation."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.fakes import raw_item
from tests.test_stories import OFFER, at, make_source, store
from veilleur.accounts.models import ApiToken, Role
from veilleur.monitoring import stories
from veilleur.monitoring.models import Mention, Story

pytestmark = pytest.mark.storage


@pytest.fixture
def grouped(acme, globex):
    stories.forget_indexes()
    twitter, news = make_source(acme, "twitter"), make_source(acme, "news")
    store(twitter, raw_item("t1", f"RT @nuvia: {OFFER}", published_at=at(2), author_handle="@ann"),
          raw_item("t2", f"RT @nuvia: {OFFER}", published_at=at(3), author_handle="@bob"))
    store(news, raw_item("n1", f"{OFFER} <script>alert(1)</script>", published_at=at(1),
                         author_handle="@nuvia"))
    theirs = make_source(globex, "theirs")
    store(theirs, raw_item("g1", OFFER, published_at=at(1)), )
    store(theirs, raw_item("g2", f"RT @nuvia: {OFFER}", published_at=at(2)))
    yield {
        "story": Story.objects.get(workspace=acme),
        "their_story": Story.objects.get(workspace=globex),
        "twitter": twitter, "news": news,
        "token": ApiToken.issue(acme, "acme-read", role=Role.VIEWER)[1],
        "their_token": ApiToken.issue(globex, "globex-read", role=Role.VIEWER)[1],
    }
    stories.forget_indexes()


def api(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_a_story_comes_with_its_counts_and_members_newest_first(grouped):
    story = grouped["story"]
    response = api(grouped["token"]).get(f"/api/stories/{story.pk}")
    assert response.status_code == 200
    body = response.json()
    t1 = Mention.objects.get(external_id="t1")
    n1 = Mention.objects.get(external_id="n1")
    assert body["id"] == story.pk
    assert (body["mention_count"], body["copies"], body["author_count"]) == (2, 3, 3)
    assert body["sources"] == sorted([grouped["twitter"].pk, grouped["news"].pk])
    assert body["first_mention_id"] == n1.pk
    assert [m["id"] for m in body["members"]] == [t1.pk, n1.pk]
    assert body["members"][0]["copies"] == 2
    # Mention text comes back verbatim as JSON, never interpreted.
    assert body["members"][1]["text"].endswith("<script>alert(1)</script>")


def test_members_are_capped_by_limit(grouped):
    story = grouped["story"]
    body = api(grouped["token"]).get(f"/api/stories/{story.pk}?limit=1").json()
    assert len(body["members"]) == 1 and body["mention_count"] == 2
    assert api(grouped["token"]).get(f"/api/stories/{story.pk}?limit=0").status_code == 422


def test_mentions_carry_their_story_and_copies(grouped):
    story = grouped["story"]
    items = api(grouped["token"]).get("/api/mentions").json()["items"]
    by_id = {item["external_id"]: item for item in items}
    assert set(by_id) == {"t1", "n1"}  # t2 is a copy of t1, not a mention
    assert by_id["t1"]["copies"] == 2 and by_id["n1"]["copies"] == 1
    assert by_id["t1"]["story"] == {
        "id": story.pk, "mention_count": 2, "copies": 3,
        "sources": sorted([grouped["twitter"].pk, grouped["news"].pk]),
    }
    single = api(grouped["token"]).get(f"/api/mentions/{by_id['n1']['id']}").json()
    assert single["story"]["id"] == story.pk


def test_another_workspace_s_story_is_not_found(grouped, client_of, charlie, alice):
    ours, theirs = grouped["story"], grouped["their_story"]
    response = api(grouped["their_token"]).get(f"/api/stories/{ours.pk}")
    assert response.status_code == 404
    assert response.json() == {"detail": "story not found"}
    assert api(grouped["token"]).get(f"/api/stories/{theirs.pk}").status_code == 404
    session = client_of(charlie).get(f"/api/stories/{ours.pk}?workspace=globex")
    assert session.status_code == 404
    own = client_of(charlie).get(f"/api/stories/{theirs.pk}?workspace=globex")
    assert own.status_code == 200
    assert {m["external_id"] for m in own.json()["members"]} == {"g1", "g2"}


def test_an_unknown_story_is_404_and_anonymous_callers_401(grouped):
    assert api(grouped["token"]).get("/api/stories/999999").status_code == 404
    assert Client().get(f"/api/stories/{grouped['story'].pk}").status_code == 401
