"""Matching one mention against many queries: an Aho-Corasick prefilter, then the trees.

Every query's required literals (see :mod:`veilleur.analysis.query_literals`) go into
one Aho-Corasick automaton. A mention is tokenised once; one pass of the automaton
over its haystack yields the queries that may match; only those (and the queries
without required literals) have their tree evaluated. The prefilter only removes
queries that cannot match, so results equal evaluating every query.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Generic, TypeVar

import ahocorasick

from veilleur.analysis.query_compiled import Query
from veilleur.analysis.query_match import MentionDoc, PreparedDoc, prepare

K = TypeVar("K", bound=Hashable)


class WatchMatcher(Generic[K]):
    """Match mentions against a fixed set of compiled queries, keyed by watch id."""

    def __init__(self, queries: Mapping[K, Query]) -> None:
        self.queries: dict[K, Query] = dict(queries)
        self.always: list[K] = []  # queries the prefilter cannot rule out
        by_literal: dict[str, list[K]] = {}
        for key, query in self.queries.items():
            if query.required is None:
                self.always.append(key)
                continue
            for literal in query.required:
                by_literal.setdefault(literal, []).append(key)
        self._keys: list[tuple[K, ...]] = []
        self._automaton: ahocorasick.Automaton | None = None
        if by_literal:
            automaton = ahocorasick.Automaton()
            for number, (literal, keys) in enumerate(by_literal.items()):
                automaton.add_word(literal, number)
                self._keys.append(tuple(keys))
            automaton.make_automaton()
            self._automaton = automaton

    def __len__(self) -> int:
        return len(self.queries)

    def candidates(self, doc: MentionDoc | str | PreparedDoc) -> set[K]:
        """The queries the prefilter lets through for this mention."""
        prepared = prepare(doc)
        found: set[K] = set(self.always)
        if self._automaton is not None:
            keys = self._keys
            for number in {value for _, value in self._automaton.iter(prepared.haystack)}:
                found.update(keys[number])
        return found

    def match(self, doc: MentionDoc | str | PreparedDoc) -> set[K]:
        """The keys of the queries that match the mention (read once for all of them)."""
        prepared = prepare(doc)
        queries = self.queries
        return {key for key in self.candidates(prepared) if queries[key].test(prepared)}

    def match_all(self, doc: MentionDoc | str | PreparedDoc) -> set[K]:
        """The same result without the prefilter: every tree evaluated (for tests, benchmarks)."""
        prepared = prepare(doc)
        return {key for key, query in self.queries.items() if query.test(prepared)}
