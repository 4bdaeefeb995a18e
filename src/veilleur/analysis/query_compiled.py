"""A compiled watch query: its tree, its prefilter literals, matching and explanation."""

from __future__ import annotations

from dataclasses import dataclass, field

from veilleur.analysis.query_ast import Node, canonical
from veilleur.analysis.query_literals import Required, required_literals
from veilleur.analysis.query_match import (
    Explanation,
    MentionDoc,
    PreparedDoc,
    explain,
    prepare,
)
from veilleur.analysis.query_parser import parse
from veilleur.analysis.query_program import Test, compile_test


@dataclass(frozen=True)
class Query:
    """A query compiled once, matched against any number of mentions.

    ``source`` is the query as written, ``ast`` its syntax tree, ``required`` the
    prefilter literals (see :mod:`veilleur.analysis.query_literals`), ``test`` the
    compiled matcher of a prepared mention.
    """

    source: str
    ast: Node
    required: Required = field(compare=False)
    test: Test = field(compare=False, repr=False)

    def matches(self, doc: MentionDoc | str | PreparedDoc) -> bool:
        """Whether the mention (or a plain text, with no fields) matches."""
        return self.test(prepare(doc))

    def explain(self, doc: MentionDoc | str | PreparedDoc) -> Explanation:
        """Whether it matches, and for each term whether and where it was found."""
        return explain(self.ast, self.source, prepare(doc))

    def canonical(self) -> str:
        """The query normalised (folded terms, explicit AND); it compiles to an equal tree."""
        return canonical(self.ast)

    @property
    def prefilterable(self) -> bool:
        """False when the query can match mentions without any particular word."""
        return self.required is not None


def compile_query(source: str) -> Query:
    """Parse ``source``; raise QuerySyntaxError pointing at the first problem."""
    ast = parse(source)
    return Query(source=source, ast=ast, required=required_literals(ast),
                 test=compile_test(ast))
