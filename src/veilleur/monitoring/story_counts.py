"""A story's figures: members, items with copies, distinct authors, sources, times.

:func:`count_arrivals` adds what a batch brought (its cost follows the batch, not the
size of the stories it touches: a story syndicated 10,000 times is not recounted at
each new copy). :func:`recount_stories` computes the same figures from the rows,
to repair them after deletions or manual changes; tests check that both agree.
The story rows are locked first (``select_for_update``, effective on PostgreSQL), so
two workers adding to one story apply their increments one after the other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import Count, F, Max, Min, Model, Sum, Window
from django.db.models.functions import RowNumber

from veilleur.monitoring.models import Mention, MentionCopy, Story, StoryAuthor

_CHUNK = 500  # ids per IN (...) clause: SQLite limits bound variables
_T = TypeVar("_T")
COUNTED = ("mention_count", "copy_count", "author_count", "source_ids", "first_seen_at",
           "last_seen_at", "first_mention_id")


def chunks(values: Sequence[_T]) -> Iterable[Sequence[_T]]:
    """``values`` in slices small enough for one ``IN (...)`` clause."""
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


@dataclass
class _Delta:
    members: int = 0
    items: int = 0
    authors: set[int] = field(default_factory=set)
    sources: set[int] = field(default_factory=set)
    times: list[datetime] = field(default_factory=list)
    first: tuple[datetime, int] | None = None  # earliest joining member (time, id)


def count_arrivals(member_ids: Sequence[int], copy_ids: Sequence[int]) -> dict[int, int]:
    """Add to their stories the mentions that just joined one (``member_ids``, with
    all their copies) and the copies just stored (``copy_ids``) of mentions already in
    one. Returns the first mention of each story touched."""
    members: dict[int, tuple[Any, ...]] = {}
    for chunk in chunks(sorted(set(member_ids))):
        members.update(
            (row[0], row)
            for row in Mention.objects.filter(pk__in=chunk, story__isnull=False).values_list(
                "pk", "story_id", "author_id", "source_id", "published_at", "copies"
            )
        )
    copies: dict[int, tuple[Any, ...]] = {}
    fields = ("pk", "mention_id", "mention__story_id", "author_id", "published_at")
    for chunk in chunks(sorted(set(copy_ids))):
        copies.update((r[0], r) for r in MentionCopy.objects.filter(
            pk__in=chunk, mention__story__isnull=False).values_list(*fields))
    for chunk in chunks(sorted(members)):
        copies.update((r[0], r) for r in MentionCopy.objects.filter(
            mention_id__in=chunk).values_list(*fields))
    deltas: dict[int, _Delta] = defaultdict(_Delta)
    for pk, story_id, author_id, source_id, published_at, n in members.values():
        delta = deltas[story_id]
        delta.members += 1
        delta.items += n  # the mention and its copies so far
        delta.sources.add(source_id)
        delta.times.append(published_at)
        if author_id is not None:
            delta.authors.add(author_id)
        if delta.first is None or (published_at, pk) < delta.first:
            delta.first = (published_at, pk)
    for _, mention_id, story_id, author_id, published_at in copies.values():
        delta = deltas[story_id]
        if mention_id not in members:
            delta.items += 1  # a joining member's copies are in its own count
        delta.times.append(published_at)
        if author_id is not None:
            delta.authors.add(author_id)
    if not deltas:
        return {}
    first_of: dict[int, int] = {}
    for chunk in chunks(sorted(deltas)):
        first_of.update(_apply(list(chunk), deltas))
    return first_of


def _apply(ids: list[int], deltas: dict[int, _Delta]) -> dict[int, int]:
    current = list(
        Story.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
        .values_list("pk", *COUNTED, "first_mention__published_at")
    )
    wanted_pairs = {(s, a) for s in ids for a in deltas[s].authors}
    known: set[tuple[int, int]] = set()
    authors = sorted({a for _, a in wanted_pairs})
    for chunk in chunks(authors):
        # By author only: an author is in few stories, while a story can have thousands
        # of authors, and two IN lists would make the database probe every combination.
        known.update(
            StoryAuthor.objects.filter(author_id__in=chunk).values_list("story_id", "author_id")
        )
    new_pairs = wanted_pairs - known
    StoryAuthor.objects.bulk_create(
        [StoryAuthor(story_id=s, author_id=a) for s, a in sorted(new_pairs)],
        batch_size=500, ignore_conflicts=True,
    )
    new_authors: dict[int, int] = defaultdict(int)
    for story_id, _ in new_pairs:
        new_authors[story_id] += 1
    rows: list[tuple[int, tuple[Any, ...]]] = []
    first_of: dict[int, int] = {}
    for pk, mentions, items, n_authors, sources, first_at, last_at, first_id, first_time in (
        current
    ):
        delta = deltas[pk]
        first = first_id
        if delta.first is not None and (
            first_id is None or first_time is None or delta.first < (first_time, first_id)
        ):
            first = delta.first[1]
        # A new story starts with zero counts and its root's time as placeholder.
        times = [*delta.times, *([first_at, last_at] if mentions else [])]
        rows.append((pk, (
            mentions + delta.members,
            items + delta.items,
            n_authors + new_authors[pk],
            sorted(set(sources or ()) | delta.sources),
            min(times) if times else first_at,
            max(times) if times else last_at,
            first,
        )))
        if first is not None:
            first_of[pk] = first
    update_rows(Story, COUNTED, rows)
    return first_of


def recount_stories(story_ids: Iterable[int]) -> dict[int, int]:
    """Recompute the figures of these stories (and their author list) from the rows.

    The repair path: :func:`count_arrivals` keeps the figures right as long as mentions
    and copies only arrive. Returns each story's first mention.
    """
    first_of: dict[int, int] = {}
    for chunk in chunks(sorted(set(story_ids))):
        first_of.update(_recount(list(chunk)))
    return first_of


def _recount(ids: list[int]) -> dict[int, int]:
    list(Story.objects.select_for_update().filter(pk__in=ids).values_list("pk"))
    members = Mention.objects.filter(story_id__in=ids).order_by()
    copies = MentionCopy.objects.filter(mention__story_id__in=ids).order_by()
    stats = {
        row["story_id"]: row
        for row in members.values("story_id").annotate(
            n=Count("pk"), items=Sum("copies"), first=Min("published_at"),
            last=Max("published_at"),
        )
    }
    copy_times = {
        row["mention__story_id"]: row
        for row in copies.values("mention__story_id").annotate(
            first=Min("published_at"), last=Max("published_at")
        )
    }
    pairs = set(
        members.filter(author__isnull=False).values_list("story_id", "author_id").union(
            copies.filter(author__isnull=False).values_list("mention__story_id", "author_id")
        )
    )
    StoryAuthor.objects.filter(story_id__in=ids).delete()
    StoryAuthor.objects.bulk_create(
        [StoryAuthor(story_id=s, author_id=a) for s, a in sorted(pairs)], batch_size=500
    )
    authors: dict[int, int] = defaultdict(int)
    for story_id, _ in pairs:
        authors[story_id] += 1
    sources: dict[int, set[int]] = defaultdict(set)
    for story_id, source_id in members.values_list("story_id", "source_id").distinct():
        sources[story_id].add(source_id)
    first_of = dict(
        members.annotate(
            rank=Window(RowNumber(), partition_by=F("story_id"),
                        order_by=[F("published_at").asc(), F("pk").asc()])
        ).filter(rank=1).values_list("story_id", "pk")
    )
    rows: list[tuple[int, tuple[Any, ...]]] = []
    for pk in ids:
        row = stats.get(pk)
        if row is None:
            continue  # no member left (deleted): keep the last known figures
        extra: dict[str, Any] = dict(copy_times.get(pk, {}))
        rows.append((pk, (
            row["n"],
            row["items"] or 0,
            authors[pk],
            sorted(sources[pk]),
            min(t for t in (row["first"], extra.get("first")) if t),
            max(t for t in (row["last"], extra.get("last")) if t),
            first_of.get(pk),
        )))
    update_rows(Story, COUNTED, rows)
    return first_of


def update_rows(
    model: type[Model], fields: Sequence[str], rows: Sequence[tuple[int, tuple[Any, ...]]]
) -> None:
    """``UPDATE ... SET fields WHERE pk = ...`` for many rows in one ``executemany``.

    A batch can touch hundreds of stories, each with its own figures; Django's
    ``bulk_update`` writes a CASE per field and row, which costs more than the update.
    This is one plain parametrised statement, built from the model's metadata and
    with values prepared by its fields, so it reads the same on every database.
    """
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    pk_column = str(meta.pk.column) if meta.pk is not None else "id"
    assignments = ", ".join(f"{quote(c.column)} = %s" for c in columns)  # type: ignore[union-attr, arg-type]
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 - names from the
        f"WHERE {quote(pk_column)} = %s"  # model's metadata; values are parameters
    )
    params = [
        [
            column.get_db_prep_save(value, connection)  # type: ignore[union-attr]
            for column, value in zip(columns, values, strict=True)
        ] + [pk]
        for pk, values in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)

