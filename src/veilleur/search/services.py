"""Search over a workspace's mentions: the entry points for views, API and CLI.

``search_mentions`` returns one page of ids, newest first (or by relevance), with
highlighted snippets. The hard case is newest-first over a common term: FTS5 yields
matches in rowid (= mention id) order, and sorting a few hundred thousand matches by
``published_at`` for every page is what makes naive full-text search slow. On SQLite
the page is therefore built by walking the index from the highest id down, because
ids grow with insertion and insertion follows time closely, then made exact: any
older id that could still belong on the page (published at or after the page's last
mention) is looked up through the ``(workspace, published_at)`` index and checked
against the FTS index. When ids and times disagree too much (a large back-dated
import) or the page is deep, the code falls back to letting SQL sort all matches:
slower, never wrong. PostgreSQL's planner makes that choice by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet

from veilleur.accounts.models import Workspace
from veilleur.monitoring.models import Mention
from veilleur.monitoring.queries import MentionFilter, filter_mentions
from veilleur.search import backends, schema
from veilleur.search.highlight import Highlight
from veilleur.search.query import SearchQuery, parse
from veilleur.search.schema import is_postgres, is_sqlite

Sort = Literal["newest", "relevance"]
MAX_LIMIT = 200
# Index hits read per step of the walk: the first step usually fills a page.
FIRST_CHUNK = 256
MAX_CHUNK = 8192  # below SQLite's limit of bound parameters per statement
# Past this many hits walked (a rare filter on a common term), or for pages this deep,
# one sorting SQL query is cheaper than walking on.
MAX_WALK = 40_000
MAX_WALK_DEPTH = 2_000
# Older mentions that may belong on the page after all; more means ids and times
# disagree (a back-dated import) and sorting in SQL is the better plan.
MAX_LATE = 2_000
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class SearchPage:
    """One page of search results: ids in order, and what is needed to show them."""

    query: SearchQuery
    ids: list[int]
    limit: int
    offset: int
    has_more: bool
    total: int | None = None  # None when not counted (``count=False``)
    highlights: dict[int, Highlight] = field(default_factory=dict)


def search_mentions(
    workspace: Workspace,
    search: str | SearchQuery,
    *,
    filters: MentionFilter | None = None,
    sort: Sort = "newest",
    limit: int = 50,
    offset: int = 0,
    count: bool = True,
    highlight: bool = True,
) -> SearchPage:
    """A page of ``workspace``'s mentions matching ``search`` and ``filters``.

    ``filters.text`` is ignored (``search`` is the text); the other filters apply.
    Newest first (``published_at``, then id) unless ``sort="relevance"``. With
    ``count=False`` the total is not computed, only ``has_more``: a count over a
    common term costs more than the page itself.
    """
    query = parse(search) if isinstance(search, str) else search
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    if not query:
        return SearchPage(query, [], limit, offset, has_more=False, total=0)
    rest = replace(filters or MentionFilter(), text="")
    base = filter_mentions(Mention.objects.for_workspace(workspace), rest)
    connection = connections[base.db]
    finder = _SqliteFinder if is_sqlite(connection) else _SqlFinder
    ids, has_more, total = finder(
        connection, base, query, workspace.pk, narrowed=rest != MentionFilter()
    ).page(sort, limit, offset, count)
    page = SearchPage(query, ids, limit, offset, has_more=has_more, total=total)
    if highlight and ids:
        rows = Mention.objects.filter(pk__in=ids).only("id", "title", "text", "lang")
        page.highlights.update(backends.highlights(connection, rows, query))
    return page


def highlights_for(mentions: Iterable[Mention], search: str | SearchQuery) -> dict[int, Highlight]:
    """Highlighted title and snippet of already loaded ``mentions``, by id."""
    query = parse(search) if isinstance(search, str) else search
    mentions = list(mentions)
    if not mentions:
        return {}
    return backends.highlights(connections[mentions[0]._state.db or "default"], mentions, query)


class _SqlFinder:
    """Let the database sort the matches (PostgreSQL, and SQLite's fallback)."""

    def __init__(
        self,
        connection: BaseDatabaseWrapper,
        base: QuerySet[Mention],
        query: SearchQuery,
        workspace_id: int,
        *,
        narrowed: bool,
    ) -> None:
        self.connection = connection
        self.base = base
        self.query = query
        self.workspace_id = workspace_id
        self.narrowed = narrowed

    def page(
        self, sort: Sort, limit: int, offset: int, count: bool
    ) -> tuple[list[int], bool, int | None]:
        matches = backends.restrict(self.base, self.query)
        ordered: QuerySet[Any]
        if sort == "relevance" and is_postgres(self.connection):
            ordered = matches.annotate(rank=backends.pg_rank(self.query)).order_by(
                "-rank", "-published_at", "-id"
            )
        elif sort == "relevance" and is_sqlite(self.connection):
            # bm25 is lower for better matches (FTS5's rank is ascending).
            ordered = matches.annotate(rank=backends.sqlite_rank(self.query)).order_by(
                "rank", "-published_at", "-id"
            )
        else:
            ordered = matches.order_by("-published_at", "-id")
        ids = list(ordered.values_list("id", flat=True)[offset : offset + limit + 1])
        total = self.count() if count else None
        return ids[:limit], len(ids) > limit, total

    def count(self) -> int:
        return backends.restrict(self.base, self.query).count()


class _SqliteFinder(_SqlFinder):
    """Walk the FTS5 index by descending id, then make the order exact (module doc)."""

    def _rows(self, sql: str, params: list[Any]) -> list[Any]:
        with self.connection.cursor() as cursor:
            expr = backends.sqlite_expression(self.query, self.workspace_id)
            cursor.execute(sql, [expr, *params])
            return cursor.fetchall()

    def newest_ids(self, *, below: int, limit: int) -> list[int]:
        return [row[0] for row in self._rows(backends.FTS_IDS_NEWEST, [below, limit])]

    def best_ids(self, *, skip: int, limit: int) -> list[int]:
        return [row[0] for row in self._rows(backends.FTS_IDS_BEST, [limit, skip])]

    def matching_among(self, ids: Sequence[int]) -> set[int]:
        return {row[0] for row in self._rows(backends.sqlite_ids_among(len(ids)), list(ids))}

    def count(self) -> int:
        if self.narrowed:
            return super().count()
        # The workspace is in the FTS expression: counting needs no mention row.
        return int(self._rows(backends.FTS_COUNT, [])[0][0])

    def page(
        self, sort: Sort, limit: int, offset: int, count: bool
    ) -> tuple[list[int], bool, int | None]:
        wanted = offset + limit + 1  # one more than shown tells whether there is more
        if wanted > MAX_WALK_DEPTH:
            return super().page(sort, limit, offset, count)
        walked = self.by_relevance(wanted) if sort == "relevance" else self.newest(wanted)
        if walked is None:
            return super().page(sort, limit, offset, count)
        ids, exhausted = walked
        if exhausted:
            total: int | None = len(ids)
        else:
            total = self.count() if count else None
        return ids[offset : offset + limit], len(ids) > offset + limit, total

    def _keep(self, rowids: list[int]) -> list[tuple[datetime, int]]:
        return list(self.base.filter(id__in=rowids).values_list("published_at", "id"))

    def newest(self, wanted: int) -> tuple[list[int], bool] | None:
        """The ``wanted`` newest matches (all if fewer) and whether that is all of them."""
        found: list[tuple[datetime, int]] = []
        lowest = MAX_ID
        chunk, walked = max(FIRST_CHUNK, 2 * wanted), 0
        while True:
            rowids = self.newest_ids(below=lowest, limit=chunk)
            walked += len(rowids)
            exhausted = len(rowids) < chunk
            if rowids:
                lowest = rowids[-1]
                found += self._keep(rowids)
            if exhausted or len(found) >= wanted:
                break
            if walked >= MAX_WALK:
                return None
            chunk = min(chunk * 4, MAX_CHUNK)
        found.sort(reverse=True)
        if exhausted:
            return [pk for _at, pk in found], True
        # Every match with an id >= lowest is in `found`. An older id published at or
        # after the last one we keep may still outrank it: find those through the
        # (workspace, published_at) index and ask the FTS index about them alone.
        last = found[wanted - 1]
        late = list(
            self.base.filter(id__lt=lowest, published_at__gte=last[0])
            .values_list("published_at", "id")[: MAX_LATE + 1]
        )
        if len(late) > MAX_LATE:
            return None
        late = [row for row in late if row > last]
        if late:
            hits = self.matching_among([pk for _at, pk in late])
            found += [row for row in late if row[1] in hits]
            found.sort(reverse=True)
        return [pk for _at, pk in found[:wanted]], False

    def by_relevance(self, wanted: int) -> tuple[list[int], bool] | None:
        """The ``wanted`` best matches by BM25 (FTS5's ``rank``), best first."""
        found: list[int] = []
        chunk, walked = max(FIRST_CHUNK, 2 * wanted), 0
        while True:
            rowids = self.best_ids(skip=walked, limit=chunk)
            walked += len(rowids)
            exhausted = len(rowids) < chunk
            if self.narrowed:
                keep = {pk for _at, pk in self._keep(rowids)}
                found += [pk for pk in rowids if pk in keep]
            else:
                found += rowids
            if exhausted or len(found) >= wanted:
                return found[:wanted] if not exhausted else found, exhausted
            if walked >= MAX_WALK:
                return None
            chunk = min(chunk * 4, MAX_CHUNK)


@dataclass(frozen=True)
class ReindexReport:
    """What ``reindex`` did: mentions indexed, triggers it had to restore, accent folding."""

    indexed: int
    restored_triggers: list[str]
    folds_accents: bool


def reindex(
    *, using: str = "default", batch: int = 5_000,
    on_progress: Callable[[int, int], None] | None = None,
) -> ReindexReport:
    """Rebuild the search index from the mentions, in one transaction.

    SQLite: restore missing sync triggers, empty the FTS table and refill it in
    batches (``on_progress(done, total)`` after each), then merge its segments.
    Writers wait for the transaction, so no mention is indexed twice or missed.
    PostgreSQL: install ``unaccent`` if it has become available, then REINDEX.
    """
    connection = connections[using]
    with transaction.atomic(using=using):
        total = Mention.objects.using(using).count()
        if is_sqlite(connection):
            restored = schema.missing_triggers(connection)
            schema.ensure(connection)
            _refill_sqlite(connection, total, batch, on_progress)
            return ReindexReport(total, restored, folds_accents=True)
        if is_postgres(connection):
            schema.install(connection)
            schema.rebuild(connection)
            if on_progress:
                on_progress(total, total)
            return ReindexReport(total, [], folds_accents=schema.has_unaccent(connection))
    return ReindexReport(0, [], folds_accents=False)


def _refill_sqlite(
    connection: BaseDatabaseWrapper, total: int, batch: int,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(schema.DELETE_ALL)
        last, done = 0, 0
        while True:
            # The id `batch` rows further on bounds this batch (the last one is open).
            cursor.execute(
                "SELECT id FROM monitoring_mention WHERE id > %s ORDER BY id LIMIT 1 OFFSET %s",
                [last, batch - 1],
            )
            row = cursor.fetchone()
            upper = row[0] if row else MAX_ID
            cursor.execute(schema.REFILL, [last, upper])
            done += cursor.rowcount
            if on_progress:
                on_progress(min(done, total), total)
            if upper == MAX_ID:
                break
            last = upper
        cursor.execute(schema.OPTIMIZE)


def check(*, using: str = "default") -> list[str]:
    """Problems with the search index (empty when healthy), for operators."""
    connection = connections[using]
    problems = []
    if is_sqlite(connection):
        missing = schema.missing_triggers(connection)
        if missing:
            problems.append(f"missing sync triggers: {', '.join(missing)}")
        try:
            with transaction.atomic(using=using), connection.cursor() as cursor:
                cursor.execute(schema.INTEGRITY_CHECK)
        except DatabaseError as exc:
            problems.append(f"the index does not match the mentions: {exc}")
    elif is_postgres(connection) and not schema.has_unaccent(connection):
        problems.append("accents are not folded: the unaccent extension is not installed")
    return problems
