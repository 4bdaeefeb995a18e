"""Watch queries (first cut): OR between groups, implicit AND inside a group.

``Nuvia OR "Nuvia Fibre" OR #nuvia`` matches a mention containing any of them;
``nuvia panne OR nuvia outage`` needs both words of one group. Matching is case-
and accent-insensitive, on whole words, phrases as consecutive words. The full boolean language
(AND/NOT, wildcards, proximity, fields) replaces this module's parser in its own
issue; the :func:`compile_query` / :meth:`Query.matches` interface stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from veilleur.analysis.text import words

_TERM = re.compile(r'"([^"]*)"|(\S+)')


class QuerySyntaxError(ValueError):
    """The query cannot be parsed; ``position`` is the 0-based offset of the problem."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class Query:
    """A compiled query: alternatives of groups; a group is phrases that must all appear."""

    source: str
    alternatives: tuple[tuple[str, ...], ...]

    def matches(self, text: str) -> bool:
        """True when every phrase of some group appears in ``text`` as whole words."""
        joined = " " + " ".join(words(text)) + " "
        return any(all(phrase in joined for phrase in group) for group in self.alternatives)


def compile_query(source: str) -> Query:
    """Parse ``source``; raise QuerySyntaxError pointing at the offending position."""
    if source.count('"') % 2:
        raise QuerySyntaxError("unclosed quote", source.rfind('"'))
    alternatives: list[tuple[str, ...]] = []
    group: list[str] = []
    expect_term = True
    for match in _TERM.finditer(source):
        phrase, bare = match.group(1), match.group(2)
        if bare is not None and bare.upper() == "OR":
            if expect_term:
                raise QuerySyntaxError("expected a term before OR", match.start())
            expect_term = True
            alternatives.append(tuple(group))
            group = []
            continue
        folded = words(phrase if phrase is not None else bare)
        if not folded:
            raise QuerySyntaxError("empty term", match.start())
        # Padded with spaces so that `in` on the padded text means whole words.
        group.append(" " + " ".join(folded) + " ")
        expect_term = False
    if not group and not alternatives:
        raise QuerySyntaxError("the query is empty", 0)
    if expect_term:
        raise QuerySyntaxError("expected a term after OR", len(source))
    alternatives.append(tuple(group))
    return Query(source=source, alternatives=tuple(alternatives))
