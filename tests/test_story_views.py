"""Stories in the mentions page: one row per story, "+N similar", members on demand."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.fakes import raw_item
from tests.test_stories import OFFER, at, make_source, store
from veilleur.monitoring import stories
from veilleur.monitoring.models import Mention, Story

pytestmark = pytest.mark.django_db


@pytest.fixture
def grouped(acme, globex):
    stories.forget_indexes()
    twitter, news, blog = (make_source(acme, n) for n in ("twitter", "news", "blog"))
    store(twitter, raw_item("t1", f"RT @nuvia: {OFFER}", published_at=at(3)),
          raw_item("t2", f"RT @nuvia: {OFFER}", published_at=at(4)))
    store(news, raw_item("n1", f"{OFFER} <img src=x onerror=alert(1)>", published_at=at(1),
                         author_handle="<b>@evil</b>"))
    store(blog, raw_item("b1", f"Wow!! RT @nuvia: {OFFER}", published_at=at(2)))
    store(twitter, raw_item("lone", "My router keeps rebooting every single night",
                            published_at=at(5)))
    theirs = make_source(globex, "theirs")
    store(theirs, raw_item("g1", f"Globex secret: {OFFER}", published_at=at(1)))
    store(theirs, raw_item("g2", f"RT @nuvia: Globex secret: {OFFER}", published_at=at(2)))
    yield {
        "story": Story.objects.get(workspace=acme),
        "their_story": Story.objects.get(workspace=globex),
    }
    stories.forget_indexes()


def text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_a_story_takes_one_row_with_its_similar_count(client_of, alice, grouped):
    page = text(client_of(alice).get(reverse("mentions")))
    story = grouped["story"]
    newest = Mention.objects.get(external_id="t1")  # published last among the members
    assert page.count('class="mention-story"') == 1
    assert page.count("<article") == 2  # the story's newest member and the lone mention
    assert f'id="mention-{newest.pk}"' in page
    assert "+2 similar (3 sources)" in page
    assert "2 copies" in page  # t2 is t1 again in the same source
    assert f"{reverse('story_members', args=[story.pk])}?exclude={newest.pk}" in page


def test_members_are_listed_newest_first_escaped_and_without_the_shown_one(
    client_of, bob, grouped
):
    story = grouped["story"]
    shown = Mention.objects.get(external_id="t1")
    url = reverse("story_members", args=[story.pk])
    body = text(client_of(bob).get(url, {"exclude": shown.pk}, HTTP_HX_REQUEST="true"))
    ids = [int(i) for i in re.findall(r'id="story-member-(\d+)"', body)]
    assert ids == [Mention.objects.get(external_id=e).pk for e in ("b1", "n1")]
    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "<b>@evil</b>" not in body and "&lt;b&gt;@evil&lt;/b&gt;" in body
    assert "3 distinct authors" in body or "distinct author" in body


def test_members_are_capped(client_of, alice, grouped, monkeypatch):
    from veilleur.monitoring import views

    monkeypatch.setattr(views, "STORY_MEMBERS_SHOWN", 1)
    story = grouped["story"]
    body = text(client_of(alice).get(reverse("story_members", args=[story.pk])))
    assert len(re.findall(r'id="story-member-', body)) == 1
    assert "and 2 more" in body


@pytest.mark.parametrize("exclude", ["abc", "-1", "9" * 40, ""])
def test_a_bad_exclude_is_ignored(client_of, alice, grouped, exclude):
    story = grouped["story"]
    body = text(client_of(alice).get(reverse("story_members", args=[story.pk]),
                                     {"exclude": exclude}))
    assert len(re.findall(r'id="story-member-', body)) == 3


def test_another_workspace_s_story_never_shows(client_of, charlie, alice, grouped):
    ours, theirs = grouped["story"], grouped["their_story"]
    assert client_of(charlie).get(reverse("story_members", args=[ours.pk])).status_code == 404
    assert client_of(alice).get(reverse("story_members", args=[theirs.pk])).status_code == 404
    page = text(client_of(alice).get(reverse("mentions")))
    assert "Globex secret" not in page
    charlie_page = text(client_of(charlie).get(reverse("mentions")))
    assert "+1 similar (1 source)" in charlie_page
    assert "Nuvia" not in charlie_page.replace("@nuvia", "")


def test_anonymous_visitors_are_sent_to_log_in(client, grouped):
    response = client.get(reverse("story_members", args=[grouped["story"].pk]))
    assert response.status_code == 302 and "login" in response["Location"]
