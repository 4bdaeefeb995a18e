"""Volume over time: what detectors count (mentions, stories, distinct authors).

A copy-paste campaign is 200 mentions, 1 story and 200 authors; a crisis is many
mentions, many stories and many authors; one bot is many mentions and 1 author.
Detectors see all three, so that they can tell these apart.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from veilleur.accounts.models import Workspace
from veilleur.monitoring.models import Mention, MentionCopy, Watch

MAX_BUCKETS = 100_000


@dataclass(frozen=True)
class VolumeBucket:
    """Counts for ``[start, start + bucket_seconds)``, by publication time.

    ``mentions``: every item seen, stored mentions and their exact copies alike.
    ``stories``: distinct stories; a mention outside any story (and its copies)
    counts as a story of its own. ``authors``: distinct known authors.
    """

    start: datetime
    mentions: int
    stories: int
    authors: int


def volume_series(
    workspace: Workspace,
    watch: Watch | None = None,
    *,
    start: datetime,
    end: datetime,
    bucket_seconds: int = 300,
) -> list[VolumeBucket]:
    """Consecutive buckets from ``start`` (inclusive) to ``end`` (exclusive), empty ones too.

    ``watch`` narrows to the mentions it matched; it must belong to ``workspace``.
    Naive datetimes are read as UTC. Bucketing is done here, not in SQL, so that it
    is the same on every database.
    """
    start, end = _aware(start), _aware(end)
    if bucket_seconds < 1:
        raise ValueError("bucket_seconds must be positive")
    if end <= start:
        raise ValueError("end must be after start")
    count = math.ceil((end - start).total_seconds() / bucket_seconds)
    if count > MAX_BUCKETS:
        raise ValueError(f"at most {MAX_BUCKETS} buckets; use larger buckets")
    if watch is not None and watch.workspace_id != workspace.pk:
        raise ValueError("the watch belongs to another workspace")

    mentions = Mention.objects.for_workspace(workspace).filter(
        published_at__gte=start, published_at__lt=end
    )
    copies = MentionCopy.objects.filter(
        mention__workspace=workspace, published_at__gte=start, published_at__lt=end
    )
    if watch is not None:
        mentions = mentions.filter(watches=watch)
        copies = copies.filter(mention__watches=watch)
    rows: list[Iterable[tuple[datetime, int, int | None, int | None]]] = [
        mentions.order_by().values_list("published_at", "pk", "story_id", "author_id"),
        copies.order_by().values_list(
            "published_at", "mention_id", "mention__story_id", "author_id"
        ),
    ]
    items = [0] * count
    story_sets: list[set[tuple[str, int]]] = [set() for _ in range(count)]
    author_sets: list[set[int]] = [set() for _ in range(count)]
    for source in rows:
        for published_at, mention_id, story_id, author_id in source:
            n = int((published_at - start).total_seconds() // bucket_seconds)
            items[n] += 1
            story_sets[n].add(("story", story_id) if story_id else ("mention", mention_id))
            if author_id is not None:
                author_sets[n].add(author_id)
    step = timedelta(seconds=bucket_seconds)
    return [
        VolumeBucket(start + n * step, items[n], len(story_sets[n]), len(author_sets[n]))
        for n in range(count)
    ]


def _aware(moment: datetime) -> datetime:
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)
