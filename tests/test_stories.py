"""Copies and stories in the pipeline: exact duplicates counted once, near-duplicates grouped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from tests.fakes import NOW, raw_item
from veilleur.connectors.base import Batch
from veilleur.monitoring import stories
from veilleur.monitoring.models import Mention, MentionCopy, Source, Story
from veilleur.monitoring.pipeline import PollReport, store_batch

pytestmark = pytest.mark.storage

OFFER = "Our new fibre offer is live in Lyon and Paris from today, with free installation"
CAMPAIGN = (
    "I have been a Nuvia customer for years and I am cancelling today because of the "
    "hidden fees. #BoycottNuvia"
)


@pytest.fixture(autouse=True)
def fresh_indexes():
    # Indexes live per process; a test must not see another test's mention ids.
    stories.forget_indexes()
    yield
    stories.forget_indexes()


def make_source(workspace, name: str) -> Source:
    return Source.objects.create(workspace=workspace, name=name, kind="fake", config={"name": name})


def store(source: Source, *items, now=NOW) -> PollReport:
    source.refresh_from_db()
    batch = Batch(items=list(items), cursor=source.cursor_version + 1)
    return store_batch(source, batch, source.cursor_version, now, platform="fakenet")


def at(minutes: float):
    return NOW - timedelta(hours=2) + timedelta(minutes=minutes)


@pytest.fixture
def twitter(acme):
    return make_source(acme, "twitter")


@pytest.fixture
def news(acme):
    return make_source(acme, "news")


# --- copies --------------------------------------------------------------------------------


def test_an_exact_duplicate_in_the_same_source_is_stored_once_with_a_count(twitter):
    report = store(
        twitter,
        raw_item("t1", OFFER, published_at=at(0), author_handle="@ann"),
        raw_item("t2", OFFER.upper() + " !!", published_at=at(1), author_handle="@bob"),
    )
    assert (report.stored, report.copies) == (1, 1)
    mention = Mention.objects.get()
    assert mention.external_id == "t1" and mention.copies == 2
    copy = MentionCopy.objects.get()
    assert (copy.external_id, copy.mention_id, copy.author.handle) == ("t2", mention.pk, "@bob")


def test_a_copy_is_counted_once_however_often_it_is_fetched_again(twitter):
    store(twitter, raw_item("t1", OFFER, published_at=at(0)))
    copy = raw_item("t2", OFFER, published_at=at(5))
    first = store(twitter, copy)
    again = store(twitter, copy, raw_item("t1", OFFER, published_at=at(0)))
    assert (first.copies, again.copies, again.stored, again.skipped) == (1, 0, 0, 2)
    assert Mention.objects.get().copies == 2
    assert MentionCopy.objects.count() == 1


def test_the_same_url_without_tracking_parameters_is_a_copy(news):
    url = "https://news.example.fr/nuvia-panne"
    store(news, raw_item("a", "Panne chez Nuvia à Lyon ce matin.", title="Panne chez Nuvia",
                         url=url + "?utm_source=rss", published_at=at(0)))
    report = store(news, raw_item("b", "Des milliers de foyers privés d'internet à Lyon.",
                                  title="Panne chez Nuvia", url=url + "/?fbclid=x#top",
                                  published_at=at(3)))
    assert report.copies == 1
    mention = Mention.objects.get()
    assert mention.canonical_url == url and mention.copies == 2


def test_items_sharing_a_page_url_with_different_content_are_not_copies(news):
    page = "https://reviews.example.com/nuvia"
    report = store(
        news,
        raw_item("r1", "Terrible support, three weeks without internet", url=page,
                 title="Avoid", published_at=at(0)),
        raw_item("r2", "Installation went smoothly and the speed is great", url=page,
                 title="Happy", published_at=at(1)),
    )
    assert (report.stored, report.copies) == (2, 0)


def test_copies_are_only_looked_for_within_the_window(twitter):
    store(twitter, raw_item("t1", OFFER, published_at=at(0) - timedelta(days=8)))
    report = store(twitter, raw_item("t2", OFFER, published_at=at(0)))
    assert (report.stored, report.copies) == (1, 0)


def test_the_same_text_in_two_sources_is_two_mentions_of_one_story(twitter, news):
    store(twitter, raw_item("t1", OFFER, published_at=at(0)))
    report = store(news, raw_item("n1", OFFER, published_at=at(1)))
    assert (report.stored, report.copies) == (1, 0)
    story = Story.objects.get()
    assert story.mention_count == 2 and story.source_ids == sorted([twitter.pk, news.pk])


def test_texts_without_words_are_never_copies_of_each_other(twitter):
    report = store(twitter, raw_item("e1", "😡😡😡", published_at=at(0)),
                   raw_item("e2", "🙏", published_at=at(1)))
    assert (report.stored, report.copies) == (2, 0)
    assert not Story.objects.exists()


# --- stories -------------------------------------------------------------------------------


def test_near_duplicates_across_sources_and_authors_form_one_story(twitter, news):
    store(twitter,
          raw_item("t1", f"RT @nuvia: {OFFER}", published_at=at(10), author_handle="@ann"),
          raw_item("t2", f"RT @nuvia: {OFFER}", published_at=at(11), author_handle="@bob"),
          raw_item("t3", f"Finally!! RT @nuvia: {OFFER} https://t.co/x", published_at=at(12),
                   author_handle="@cat"),
          raw_item("t4", "Unrelated: my router keeps rebooting every night", published_at=at(13),
                   author_handle="@dan"))
    store(news, raw_item("n1", f"{OFFER}. Read more", published_at=at(5), author_handle="@nuvia",
                         title="Nuvia fibre offer"))
    t1 = Mention.objects.get(external_id="t1")
    assert t1.copies == 2  # t2 is the same text in the same source
    story = Story.objects.get()
    members = set(story.members.values_list("external_id", flat=True))
    assert members == {"t1", "t3", "n1"}
    assert story.mention_count == 3
    assert story.copy_count == 4  # t1 (x2), t3, n1
    assert story.author_count == 4  # ann, bob (the copy), cat, nuvia
    assert story.source_ids == sorted([twitter.pk, news.pk])
    # The news item was published first, though stored last: it is the first mention.
    assert story.first_mention.external_id == "n1"
    assert story.first_seen_at == at(5) and story.last_seen_at == at(12)
    assert Mention.objects.get(external_id="t4").story is None


def test_a_copy_paste_campaign_counts_its_authors(twitter, news):
    store(twitter, *[
        raw_item(f"c{n}", CAMPAIGN, published_at=at(n), author_handle=f"@user{n}")
        for n in range(5)
    ])
    store(news, raw_item("f1", CAMPAIGN.replace("years", "ten years"), published_at=at(9),
                         author_handle="@forum_user"))
    story = Story.objects.get()
    assert (story.mention_count, story.copy_count, story.author_count) == (2, 6, 6)


def test_a_later_copy_updates_its_story(twitter, news):
    store(twitter, raw_item("t1", OFFER, published_at=at(0), author_handle="@ann"))
    store(news, raw_item("n1", OFFER, published_at=at(1), author_handle="@nuvia"))
    store(twitter, raw_item("t9", OFFER, published_at=at(30), author_handle="@zoe"))
    story = Story.objects.get()
    assert (story.mention_count, story.copy_count, story.author_count) == (2, 3, 3)
    assert story.last_seen_at == at(30)


def test_the_same_text_in_two_workspaces_never_shares_a_story(acme, globex):
    ours, theirs = make_source(acme, "ours"), make_source(globex, "theirs")
    store(ours, raw_item("a1", OFFER, published_at=at(0)))
    store(theirs, raw_item("b1", OFFER, published_at=at(1)))
    store(theirs, raw_item("b2", f"RT @nuvia: {OFFER}", published_at=at(2)))
    story = Story.objects.get()
    assert story.workspace == globex
    assert set(story.members.values_list("external_id", flat=True)) == {"b1", "b2"}
    assert Mention.objects.get(external_id="a1").story is None


def test_grouping_survives_a_restart(twitter, news):
    store(twitter, raw_item("t1", OFFER, published_at=at(0)))
    store(news, raw_item("n1", OFFER, published_at=at(1)))
    stories.forget_indexes()  # a worker restart: the index is rebuilt from signatures
    store(news, raw_item("n2", f"RT @nuvia: {OFFER}", published_at=at(2)))
    story = Story.objects.get()
    assert story.mention_count == 3
    assert Mention.objects.filter(signature__isnull=False).count() == 3


def test_the_cached_index_follows_commits_and_forgets_rollbacks(
    twitter, news, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        store(twitter, raw_item("t1", OFFER, published_at=at(0)))
    assert list(stories._CACHE) == [twitter.workspace_id]  # handed back on commit

    class Boom(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        store(news, raw_item("n1", OFFER, published_at=at(1)))
        raise Boom
    # The rolled-back batch never handed its index back: nothing of n1 remains.
    assert not stories._CACHE
    with django_capture_on_commit_callbacks(execute=True):
        store(news, raw_item("n2", f"RT @nuvia: {OFFER}", published_at=at(2)))
    story = Story.objects.get()
    assert set(story.members.values_list("external_id", flat=True)) == {"t1", "n2"}
    with django_capture_on_commit_callbacks(execute=True):
        store(twitter, raw_item("t2", f"Wow. RT @nuvia: {OFFER}", published_at=at(3)))
    assert Story.objects.get().mention_count == 3  # from the cached index this time


def test_short_texts_stay_out_of_stories(twitter, news):
    store(twitter, raw_item("t1", "@nuvia thanks!", published_at=at(0)))
    store(news, raw_item("n1", "@other thanks!", published_at=at(1)))
    assert not Story.objects.exists()
    assert Mention.objects.filter(signature__isnull=True).count() == 2


def test_short_identical_replies_by_different_people_are_separate_mentions(twitter):
    report = store(twitter,
                   raw_item("r1", "@nuvia thanks!", published_at=at(0), author_handle="@ann"),
                   raw_item("r2", "@Nuvia thanks", published_at=at(1), author_handle="@bob"))
    assert (report.stored, report.copies) == (2, 0)


def test_counting_as_mentions_arrive_agrees_with_a_recount(twitter, news, acme):
    from veilleur.monitoring.models import Author, StoryAuthor
    from veilleur.monitoring.story_counts import COUNTED, recount_stories

    store(twitter, raw_item("t0", "A lone post that later gets quoted by several people here",
                            published_at=at(0), author_handle="@zed"))
    store(twitter, raw_item("t1", OFFER, published_at=at(20), author_handle="@ann"),
          raw_item("t2", OFFER, published_at=at(21), author_handle="@bob"),
          raw_item("q1", "RT @zed: A lone post that later gets quoted by several people here",
                   published_at=at(22), author_handle="@ann"))
    store(news, raw_item("n1", f"{OFFER}. Read more", published_at=at(5), author_handle="@ann"),
          raw_item("n2", f"RT @nuvia: {OFFER}", published_at=at(30), author_handle="@cat"))
    store(twitter, raw_item("t3", OFFER, published_at=at(40), author_handle="@dan"),
          raw_item("t4", OFFER, published_at=at(41), author_handle="@ann"))
    counted = {s.pk: [getattr(s, f) for f in COUNTED] for s in Story.objects.all()}
    pairs = set(StoryAuthor.objects.values_list("story_id", "author_id"))
    assert len(counted) == 2
    recount_stories(counted)
    assert {s.pk: [getattr(s, f) for f in COUNTED] for s in Story.objects.all()} == counted
    assert set(StoryAuthor.objects.values_list("story_id", "author_id")) == pairs
    offer = Story.objects.get(first_mention__external_id="n1")
    # ann, bob, dan (copies of t1), cat: ann wrote three of them, counted once.
    assert (offer.mention_count, offer.copy_count, offer.author_count) == (3, 6, 4)
    assert Author.objects.filter(workspace=acme).count() == 5
