"""The watch query language (public API).

A watch's query says which mentions belong to it, in the boolean syntax users of
Brandwatch and Talkwalker know. The full syntax is in ``docs/queries.md``; in short::

    nuvia OR #nuvia OR @nuvia                 words, hashtags, handles
    nuvia (panne OR coupure) -test            implicit AND, groups, NOT / -
    "double prélèvement"  boulang*  colo?r    phrases and wildcards
    nuvia NEAR/3 panne   "nuvia panne"~3      proximity, either order
    nuvia ONEAR/3 panne                       proximity, in this order
    {Orange}                                  exact case (and accents)
    lang:fr source:mastodon author:@jo site:example.com country:fr
    title:panne followers:>10000 followers:1000..5000

Precedence, tightest first: NEAR/ONEAR, NOT, AND (explicit or implicit), OR.
Matching is on whole words, case- and accent-insensitive, and understands French
elision (``hôtel`` is found in ``l'hôtel``).

API
---
``compile_query(source) -> Query``
    Parse once; raise :class:`QuerySyntaxError` for a bad query.
``Query.matches(doc) -> bool``
    ``doc`` is a :class:`MentionDoc` or a plain ``str`` (the text, no fields).
``Query.explain(doc) -> Explanation``
    ``Explanation(matched, terms)``; each :class:`TermMatch` has ``term`` (as
    written), ``query_start``/``query_end`` (its offsets in the query), ``matched``,
    ``negated`` (under NOT) and ``spans`` (:class:`Span` ``(field, start, end)`` in
    the mention's ``"text"`` or ``"title"``).
``Query.canonical() -> str``
    The normalised query; it compiles to an equal tree (``Query.ast``).
``Query.source``, ``Query.ast``, ``Query.required``, ``Query.prefilterable``
``MentionDoc(text, title="", lang="", source="", author="", site="", country="",
followers=None)``
    Frozen dataclass: what a query is matched against.
``WatchMatcher({watch_id: Query}).match(doc) -> set[watch_id]``
    All of a workspace's watches at once: the mention is tokenised once and an
    Aho-Corasick prefilter skips the queries that cannot match.
``QuerySyntaxError``
    ``.code``, ``.position`` (0-based offset), ``.expected``, ``.params``,
    ``.message(lang)`` in English or French (positions there count from 1);
    ``str(error)`` is the English message.
``MAX_QUERY_CHARS``, ``MAX_TERMS``, ``MAX_NEAR_DISTANCE``, ``MAX_DEPTH``
    The limits a query must respect.
"""

from __future__ import annotations

from veilleur.analysis.query_ast import MAX_NEAR_DISTANCE
from veilleur.analysis.query_compiled import Query, compile_query
from veilleur.analysis.query_errors import QuerySyntaxError
from veilleur.analysis.query_lexer import MAX_QUERY_CHARS, MAX_TERMS
from veilleur.analysis.query_match import Explanation, MentionDoc, Span, TermMatch
from veilleur.analysis.query_parser import MAX_DEPTH
from veilleur.analysis.query_prefilter import WatchMatcher

__all__ = [
    "MAX_DEPTH",
    "MAX_NEAR_DISTANCE",
    "MAX_QUERY_CHARS",
    "MAX_TERMS",
    "Explanation",
    "MentionDoc",
    "Query",
    "QuerySyntaxError",
    "Span",
    "TermMatch",
    "WatchMatcher",
    "compile_query",
]
