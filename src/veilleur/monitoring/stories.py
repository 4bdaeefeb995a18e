"""Stories: near-duplicate mentions grouped across sources and authors (docs/stories.md).

Called by :func:`veilleur.monitoring.pipeline.store_batch` inside its transaction,
after the exact copies were set aside (``veilleur.monitoring.copies``):
:func:`plan_stories` puts each new mention with a signature into the story of its most
similar recent mention of the workspace (creating the story at its second member)
before the mentions are inserted, so they are inserted with their story; then
:func:`finish_stories` adds what joined to the figures of every story touched, copies
included (``veilleur.monitoring.story_counts``).

The signatures of the window live in a per-process :class:`StoryIndex` per workspace,
rebuilt from ``Mention.signature`` when missing. A batch checks the index out and
hands it back only when its transaction commits: after a rollback, or while another
thread holds it, the next batch rebuilds from the database, which is always right.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from veilleur.analysis.dedup import DEFAULT_PARAMS
from veilleur.analysis.normalise import NormalisedItem
from veilleur.analysis.story_index import StoryIndex
from veilleur.monitoring import story_counts
from veilleur.monitoring.models import Mention, MentionCopy, Story
from veilleur.monitoring.story_counts import chunks, update_rows

PARAMS = DEFAULT_PARAMS
DEFAULT_WINDOW_DAYS = 7
# Per workspace, the newest signatures kept in memory (about 1 KiB each), and how many
# workspaces' indexes a process keeps (least recently used leave first).
MAX_INDEX_ENTRIES = 50_000
MAX_CACHED_WORKSPACES = 16


def story_window() -> timedelta:
    """How far apart in time two mentions may be and still be copies or one story.

    ``VEILLEUR_STORY_WINDOW_DAYS``, 7 days by default.
    """
    config = getattr(settings, "CONFIG", None)
    days = config.story_window_days if config is not None else DEFAULT_WINDOW_DAYS
    return timedelta(days=float(days))


# --- stories -------------------------------------------------------------------------------


@dataclass
class _Cached:
    index: StoryIndex[int]
    since: datetime  # every signed mention published since then is in the index
    max_id: int  # the highest mention id read from the database


_CACHE: OrderedDict[int, _Cached] = OrderedDict()
_LOCK = threading.Lock()


def forget_indexes() -> None:
    """Drop every cached index (tests; or after bulk changes made outside the pipeline)."""
    with _LOCK:
        _CACHE.clear()


def _checkout(workspace_id: int) -> _Cached | None:
    # Taken out, not shared: two threads never mutate one index, and a batch that
    # rolls back simply never returns it.
    with _LOCK:
        return _CACHE.pop(workspace_id, None)


def _checkin(workspace_id: int, cached: _Cached) -> None:
    with _LOCK:
        _CACHE[workspace_id] = cached
        _CACHE.move_to_end(workspace_id)
        while len(_CACHE) > MAX_CACHED_WORKSPACES:
            _CACHE.popitem(last=False)


def _signed_rows(workspace_id: int, since: datetime, after_id: int = 0) -> list[tuple[Any, ...]]:
    rows = list(
        Mention.objects.filter(
            workspace_id=workspace_id, published_at__gte=since, pk__gt=after_id,
            signature__isnull=False,
        )
        .order_by("-published_at", "-pk")
        .values_list("pk", "signature", "published_at", "story_id")[:MAX_INDEX_ENTRIES]
    )
    rows.reverse()  # oldest first: the newest stay in full LSH buckets
    return rows


def _anchor(index: StoryIndex[int], workspace_id: int, story_ids: Iterable[int]) -> None:
    ids = sorted(set(story_ids))
    for chunk in chunks(ids):
        for pk, first in Story.objects.filter(workspace_id=workspace_id, pk__in=chunk).values_list(
            "pk", "first_mention_id"
        ):
            if first is not None:
                index.set_anchor(pk, first)


def _index_for(workspace_id: int, since: datetime, window: timedelta) -> _Cached:
    """The workspace's index covering ``since`` onwards, synced with the database."""
    cached = _checkout(workspace_id)
    if cached is None or since < cached.since or cached.index.window != window:
        # Some slack below what this batch needs, so that a backlog walked back in
        # time does not rebuild at every batch.
        since = since - window
        rows = _signed_rows(workspace_id, since)
        index: StoryIndex[int] = StoryIndex.load(rows, PARAMS, window)
        max_id = max((r[0] for r in rows), default=0)
        cached = _Cached(index, since, max_id)
    else:
        # Mentions other processes stored since this index last saw the database.
        rows = _signed_rows(workspace_id, cached.since, cached.max_id)
        for pk, data, at, story in rows:
            signature = PARAMS.hasher.from_bytes(data)
            if signature is not None:
                cached.index.add(pk, signature, at, story)
        cached.max_id = max([cached.max_id, *(r[0] for r in rows)])
    _anchor(cached.index, workspace_id, (r[3] for r in rows if r[3] is not None))
    return cached


@dataclass
class StoryPlan:
    """Which story each new mention joins, decided before the mentions are inserted.

    Made by :func:`plan_stories`, completed by :func:`finish_stories` once the
    mentions have ids. ``story_of`` maps external ids of the batch to story ids.
    """

    workspace_id: int
    story_of: dict[str, int] = field(default_factory=dict)
    temp_keys: dict[str, int] = field(default_factory=dict)  # external id -> key in index
    old_roots: dict[int, int] = field(default_factory=dict)  # stored mention -> new story
    new_stories: set[int] = field(default_factory=set)
    provisional: set[Hashable] = field(default_factory=set)  # labels until stories exist
    cached: _Cached | None = None


def plan_stories(
    workspace_id: int,
    items: list[NormalisedItem],
    signatures: dict[str, bytes | None],
    window: timedelta | None = None,
) -> StoryPlan:
    """Match new items (in time order) against the workspace's recent mentions and
    each other; create the stories that gain their second member."""
    window = window or story_window()
    plan = StoryPlan(workspace_id)
    signed = [
        (item, s) for item in items
        if (s := PARAMS.hasher.from_bytes(signatures.get(item.external_id))) is not None
    ]
    if not signed:
        return plan
    signed.sort(key=lambda pair: (pair[0].published_at, pair[0].external_id))
    plan.cached = _index_for(workspace_id, signed[0][0].published_at - window, window)
    index = plan.cached.index
    labels: dict[str, Hashable] = {}
    roots: dict[int, Hashable] = {}  # a mention alone until now -> its provisional label
    times: dict[int, datetime] = {}
    for n, (item, signature) in enumerate(signed):
        key = -(n + 1)  # until the mention has an id
        plan.temp_keys[item.external_id] = key
        times[key] = item.published_at
        found = index.match(signature, item.published_at)
        label: Hashable | None = None
        if found is not None:
            label = found.story
            if label is None:
                label = roots.setdefault(found.key, ("new", found.key))
                index.set_story(found.key, label)
                index.set_anchor(label, found.key)
            labels[item.external_id] = label
        index.add(key, signature, item.published_at, label)
    plan.provisional.update(roots.values())
    story_ids = _create_stories(plan, roots, times)
    for external_id, label in labels.items():
        story_id = story_ids.get(label, label)
        if isinstance(story_id, int):
            plan.story_of[external_id] = story_id
    temp_of = {key: external_id for external_id, key in plan.temp_keys.items()}
    for root, label in roots.items():
        story_id = story_ids.get(label)
        if story_id is None:
            continue
        if root < 0:
            plan.story_of[temp_of[root]] = story_id
        else:
            plan.old_roots[root] = story_id
    return plan


def _create_stories(
    plan: StoryPlan, roots: dict[int, Hashable], times: dict[int, datetime]
) -> dict[Hashable, int]:
    """Story rows for the provisional labels (a stored root that has one keeps it)."""
    stored = sorted(r for r in roots if r > 0)
    current: dict[int, tuple[int | None, datetime]] = {}
    story_id: int | None
    for chunk in chunks(stored):
        for pk, story_id, at in Mention.objects.filter(
            workspace_id=plan.workspace_id, pk__in=chunk
        ).values_list("pk", "story_id", "published_at"):
            current[pk] = (story_id, at)
    out: dict[Hashable, int] = {}
    to_create: list[tuple[Hashable, Story]] = []
    for root, label in roots.items():
        if root > 0 and root not in current:
            continue  # gone from the database meanwhile
        story_id, at = current[root] if root > 0 else (None, times[root])
        if story_id is not None:
            out[label] = story_id  # another process grouped it meanwhile
            continue
        # Counts and first mention are filled in by story_counts.count_arrivals.
        to_create.append(
            (label, Story(workspace_id=plan.workspace_id, first_seen_at=at, last_seen_at=at))
        )
    Story.objects.bulk_create([story for _, story in to_create])
    out.update((label, story.pk) for label, story in to_create)
    plan.new_stories.update(story.pk for _, story in to_create)
    return out


def finish_stories(
    plan: StoryPlan, mentions: list[Mention], new_copies: list[MentionCopy]
) -> dict[int, int]:
    """After the insert: move the roots into their new story and count what joined the
    stories (members, and copies stored meanwhile); returns each touched story's first
    mention."""
    update_rows(Mention, ("story_id",), [(pk, (story,)) for pk, story in plan.old_roots.items()])
    joined = [m.pk for m in mentions if m.story_id is not None] + list(plan.old_roots)
    first_of = story_counts.count_arrivals(joined, [c.pk for c in new_copies])
    cached = plan.cached
    if cached is not None:
        index = cached.index
        for mention in mentions:
            key = plan.temp_keys.get(mention.external_id)
            if key is not None:
                index.rekey(key, mention.pk)
                index.set_story(mention.pk, plan.story_of.get(mention.external_id))
            cached.max_id = max(cached.max_id, mention.pk)
        for root, story_id in plan.old_roots.items():
            index.set_story(root, story_id)
        for label in plan.provisional:
            index.forget_anchor(label)
        for story_id, first in first_of.items():
            index.set_anchor(story_id, first)
        if len(index) > MAX_INDEX_ENTRIES:
            # Older mentions leave; a later batch that needs them rebuilds.
            cached.since = index.trim(MAX_INDEX_ENTRIES) or cached.since
        workspace_id = plan.workspace_id
        transaction.on_commit(lambda: _checkin(workspace_id, cached))
    return first_of
