"""How a parsed search becomes SQL on each database; the only SQL of the search app.

:func:`restrict` is what other code uses (``monitoring.queries.filter_mentions``):
it narrows any mention queryset to the mentions a search matches, on SQLite
through the FTS5 index, on PostgreSQL through the GIN expression index. It does not
import the monitoring queries, so they can import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import FloatField, Q, QuerySet
from django.db.models.expressions import RawSQL

from veilleur.monitoring.models import Mention
from veilleur.search.highlight import (
    MAX_SCANNED_CHARS,
    START,
    STOP,
    Highlight,
    highlight,
    highlight_words,
    marked_words,
)
from veilleur.search.query import SearchQuery, Term, parse, to_fts5
from veilleur.search.schema import is_postgres, is_sqlite, pg_vector

# ts_headline marks every hit of the whole (bounded) text: only the marked words are
# used, the snippet itself is rendered from the original text (see highlight.py).
HEADLINE_OPTIONS = f"StartSel={START}, StopSel={STOP}, HighlightAll=true"


def connection_for(mentions: QuerySet[Any]) -> BaseDatabaseWrapper:
    return connections[mentions.db]


def restrict(mentions: QuerySet[Mention], search: str | SearchQuery) -> QuerySet[Mention]:
    """``mentions`` narrowed to those matching ``search``; none when it has no term."""
    query = parse(search) if isinstance(search, str) else search
    if not query:
        return mentions.none()
    connection = connection_for(mentions)
    if is_sqlite(connection):
        sql, params = sqlite_match(query)
        # Constant SQL; the user's words only ever travel as bound parameters.
        return mentions.filter(id__in=RawSQL(sql, params))  # noqa: S611
    if is_postgres(connection):
        sql, params = pg_match(query)
        return mentions.filter(id__in=RawSQL(sql, params))  # noqa: S611
    return mentions.filter(_fallback(query))


# --- SQLite -----------------------------------------------------------------------------


def sqlite_expression(query: SearchQuery, workspace_id: int | None = None) -> str:
    """The MATCH argument; with ``workspace_id``, the index itself scopes the search."""
    expr = to_fts5(query)
    if workspace_id is None:
        return expr
    return f'{{workspace_id}} : "{int(workspace_id)}" AND {expr}'


FTS_IDS = "SELECT rowid FROM search_mention_fts WHERE search_mention_fts MATCH %s"
# FTS5 reads a doclist backwards as cheaply as forwards: the newest ids come first.
FTS_IDS_NEWEST = FTS_IDS + " AND rowid < %s ORDER BY rowid DESC LIMIT %s"
FTS_IDS_BEST = FTS_IDS + " ORDER BY rank LIMIT %s OFFSET %s"
FTS_COUNT = "SELECT count(*) FROM search_mention_fts WHERE search_mention_fts MATCH %s"
FTS_RANK = (
    "(SELECT rank FROM search_mention_fts WHERE search_mention_fts MATCH %s"
    " AND rowid = monitoring_mention.id)"
)


def sqlite_match(query: SearchQuery, workspace_id: int | None = None) -> tuple[str, list[Any]]:
    """``SELECT rowid ...`` of the matching mentions (ids), unordered."""
    return FTS_IDS, [sqlite_expression(query, workspace_id)]


def sqlite_rank(query: SearchQuery) -> RawSQL:
    """BM25 of a row of an unaliased ``monitoring_mention`` (lower is better)."""
    return RawSQL(FTS_RANK, [sqlite_expression(query)], output_field=FloatField())  # noqa: S611


def sqlite_ids_among(count: int) -> str:
    """``FTS_IDS`` limited to ``count`` ids (one bound parameter each)."""
    return FTS_IDS + " AND rowid IN (" + ", ".join(["%s"] * count) + ")"


# --- PostgreSQL -------------------------------------------------------------------------


def _pg_term(term: Term) -> tuple[str, list[Any]]:
    # Both configurations, ORed: the document holds French and English lexemes, so an
    # English word stemmed the English way finds English text, a French one French text.
    if term.prefix:
        # The word holds letters and digits only, so ":*" is the only syntax in it.
        arg = f"{term.words[0]}:*"
        sql = "(to_tsquery('veilleur_fr', %s) || to_tsquery('veilleur_en', %s))"
    else:
        arg = " ".join(term.words)
        sql = "(phraseto_tsquery('veilleur_fr', %s) || phraseto_tsquery('veilleur_en', %s))"
    return sql, [arg, arg]


def pg_tsquery(query: SearchQuery) -> tuple[str, list[Any]]:
    """A tsquery expression for ``query``, built by PostgreSQL's own parsers from params."""
    parts, params = [], []
    for term in query.include:
        sql, args = _pg_term(term)
        parts.append(sql)
        params += args
    for term in query.exclude:
        sql, args = _pg_term(term)
        parts.append(f"!!{sql}")
        params += args
    return "(" + " && ".join(parts) + ")", params


def pg_match(query: SearchQuery) -> tuple[str, list[Any]]:
    """``SELECT id ...`` of the matching mentions, served by the GIN index.

    A self-contained subquery rather than a condition on the outer row: it stays
    right whatever alias Django gives the mention table in the outer query.
    """
    sql, params = pg_tsquery(query)
    return f"SELECT id FROM monitoring_mention WHERE {pg_vector()} @@ {sql}", params  # noqa: S608


def pg_rank(query: SearchQuery) -> RawSQL:
    """Relevance (cover density) of a row of an unaliased ``monitoring_mention``."""
    sql, params = pg_tsquery(query)
    vector = pg_vector("monitoring_mention")
    return RawSQL(f"ts_rank_cd({vector}, {sql})", params, output_field=FloatField())  # noqa: S611


def _pg_headlines(
    connection: BaseDatabaseWrapper, mentions: list[Mention], query: SearchQuery
) -> dict[int, Highlight]:
    tsquery, params = pg_tsquery(query)
    # ts_headline parses with one configuration: the mention's language picks it.
    config = "(CASE WHEN left(lang, 2) = 'en' THEN 'veilleur_en' ELSE 'veilleur_fr' END)::regconfig"
    strip = "chr(2) || chr(3)"
    text = f"translate(left(text, {MAX_SCANNED_CHARS}), {strip}, '')"
    title = f"translate(title, {strip}, '')"
    sql = "".join([
        f"WITH q AS (SELECT {tsquery} AS tsq) SELECT id,",
        f" ts_headline({config}, {title} || ' ' || {text}, q.tsq, %s)",
        " FROM monitoring_mention, q WHERE id = ANY(%s)",
    ])
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, HEADLINE_OPTIONS, [m.pk for m in mentions]])
        words = {pk: marked_words(headline) for pk, headline in cursor.fetchall()}
    return {
        m.pk: highlight_words(m.title, m.text, words.get(m.pk, set()) | _literal_words(query))
        for m in mentions
    }


def _literal_words(query: SearchQuery) -> set[str]:
    # The words typed also count, e.g. a stop word PostgreSQL left out of the tsquery.
    return {w for term in query.include if not term.prefix for w in term.folded}


# --- anything else ----------------------------------------------------------------------


def _fallback(query: SearchQuery) -> Q:
    # Other databases get substring matching: slower and accent-sensitive, but correct
    # enough to keep the filters working.
    condition = Q()
    for term in query.include:
        phrase = " ".join(term.words)
        condition &= Q(title__icontains=phrase) | Q(text__icontains=phrase)
    for term in query.exclude:
        phrase = " ".join(term.words)
        condition &= ~(Q(title__icontains=phrase) | Q(text__icontains=phrase))
    return condition


# --- highlighting -----------------------------------------------------------------------


def highlights(
    connection: BaseDatabaseWrapper, mentions: Iterable[Mention], query: SearchQuery
) -> dict[int, Highlight]:
    """Highlighted title and snippet of each of ``mentions``, by id."""
    mentions = list(mentions)
    if not query or not mentions:
        return {}
    if is_postgres(connection):
        return _pg_headlines(connection, mentions, query)
    return {m.pk: highlight(m.title, m.text, query) for m in mentions}
