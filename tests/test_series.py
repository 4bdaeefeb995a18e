"""Volume series for detectors: mentions, stories and distinct authors per bucket."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes import NOW, make_mention
from veilleur.monitoring.models import Author, MentionCopy, Source, Story, Watch
from veilleur.monitoring.series import VolumeBucket, volume_series

pytestmark = pytest.mark.storage
START = NOW - timedelta(minutes=30)


@pytest.fixture
def feed(acme):
    return Source.objects.create(workspace=acme, name="feed", kind="fake", config={"name": "f"})


def author(workspace, handle: str) -> Author:
    return Author.objects.create(workspace=workspace, platform="fakenet", handle=handle)


def at(minutes: float):
    return START + timedelta(minutes=minutes)


def test_it_counts_mentions_stories_and_authors_per_bucket(acme, feed):
    ann, bob, cat = (author(acme, h) for h in ("@ann", "@bob", "@cat"))
    story = Story.objects.create(workspace=acme, first_seen_at=at(1), last_seen_at=at(3))
    first = make_mention(feed, "campaign", author=ann, published_at=at(1), story=story, copies=3)
    make_mention(feed, "campaign again", author=bob, published_at=at(2), story=story)
    make_mention(feed, "alone", author=ann, published_at=at(4))
    make_mention(feed, "no author", author=None, published_at=at(12))
    # Two copies of the first mention: one in its bucket, one later.
    MentionCopy.objects.create(mention=first, source=feed, external_id="c1", author=cat,
                               published_at=at(3))
    MentionCopy.objects.create(mention=first, source=feed, external_id="c2", author=None,
                               published_at=at(11))

    buckets = volume_series(acme, start=START, end=START + timedelta(minutes=15))

    assert buckets == [
        VolumeBucket(at(0), mentions=4, stories=2, authors=3),
        VolumeBucket(at(5), mentions=0, stories=0, authors=0),
        VolumeBucket(at(10), mentions=2, stories=2, authors=0),
    ]


def test_a_copy_of_a_mention_outside_any_story_counts_as_that_mention(acme, feed):
    mention = make_mention(feed, "one post", published_at=at(1))
    MentionCopy.objects.create(mention=mention, source=feed, external_id="c", published_at=at(2))
    [bucket] = volume_series(acme, start=START, end=at(5))
    assert (bucket.mentions, bucket.stories, bucket.authors) == (2, 1, 1)


def test_bounds_are_inclusive_then_exclusive_and_buckets_can_be_partial(acme, feed):
    make_mention(feed, "at start", published_at=at(0))
    make_mention(feed, "at end", published_at=at(10))
    buckets = volume_series(acme, start=START, end=at(10), bucket_seconds=240)
    assert [b.mentions for b in buckets] == [1, 0, 0]
    assert buckets[-1].start == at(8)


def test_a_watch_narrows_the_series(acme, feed):
    watch = Watch.objects.create(workspace=acme, name="Nuvia", query="nuvia")
    matched = make_mention(feed, "nuvia", published_at=at(1), watches=[watch])
    make_mention(feed, "other", published_at=at(1))
    MentionCopy.objects.create(mention=matched, source=feed, external_id="c", published_at=at(2))
    [bucket] = volume_series(acme, watch, start=START, end=at(5))
    assert (bucket.mentions, bucket.stories) == (2, 1)


def test_other_workspaces_never_count(acme, globex, feed):
    theirs = Source.objects.create(workspace=globex, name="feed", kind="fake", config={})
    make_mention(theirs, "theirs", published_at=at(1))
    make_mention(feed, "ours", published_at=at(1))
    assert volume_series(acme, start=START, end=at(5))[0].mentions == 1
    assert volume_series(globex, start=START, end=at(5))[0].mentions == 1
    their_watch = Watch.objects.create(workspace=globex, name="W", query="w")
    with pytest.raises(ValueError, match="another workspace"):
        volume_series(acme, their_watch, start=START, end=at(5))


@pytest.mark.parametrize(
    ("end", "bucket", "message"),
    [(START, 300, "after start"), (at(5), 0, "positive"), (START + timedelta(days=400), 60,
                                                             "at most")],
)
def test_bad_arguments_are_refused(acme, end, bucket, message):
    with pytest.raises(ValueError, match=message):
        volume_series(acme, start=START, end=end, bucket_seconds=bucket)


def test_naive_datetimes_are_read_as_utc(acme, feed):
    make_mention(feed, "x", published_at=at(1))
    naive = START.replace(tzinfo=None)
    assert volume_series(acme, start=naive, end=naive + timedelta(minutes=5))[0].mentions == 1
