"""The query language's syntax tree and its canonical printing.

Nodes are frozen dataclasses compared by meaning: ``at`` (where a node was written in
the query, for error messages and ``explain``) is left out of equality, so two
queries that say the same thing in different spellings have equal trees.
Terms are stored folded (``Hôtel`` becomes ``hotel``), except exact-case ones.

:func:`canonical` prints a tree as a query that parses back to an equal tree:
explicit ``AND``, parentheses only where precedence needs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from veilleur.analysis.text import match_fold

Where = tuple[int, int]
_NOWHERE: Where = (0, 0)

MAX_NEAR_DISTANCE = 100
# Fields compared with a value (``followers`` and ``title`` are nodes of their own).
VALUE_FIELDS = ("lang", "source", "author", "site", "country")
FIELDS = (*VALUE_FIELDS, "title", "followers")


@dataclass(frozen=True)
class Term:
    """One word, hashtag or @handle; with ``*``/``?`` wildcards unless ``exact``.

    ``pattern`` is folded, or as written (NFC) when ``exact`` (``{Apple}``).
    """

    pattern: str
    exact: bool = False
    at: Where = field(default=_NOWHERE, compare=False, repr=False)

    @property
    def is_wildcard(self) -> bool:
        return not self.exact and ("*" in self.pattern or "?" in self.pattern)

    @property
    def folded(self) -> str:
        """The folded form, what the word index is keyed by."""
        return match_fold(self.pattern) if self.exact else self.pattern


@dataclass(frozen=True)
class Phrase:
    """Words in a row (``"a b"``), or within a window in any order (``"a b"~n``).

    With ``slop`` n, the words must all fall within ``len(words) + n`` consecutive
    positions: ``"a b"~3`` means at most 3 other words between ``a`` and ``b``.
    """

    words: tuple[Term, ...]
    slop: int | None = None
    at: Where = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Near:
    """``left NEAR/n right``: at most ``n`` words between them; ``ordered`` for ONEAR."""

    left: Node
    right: Node
    distance: int
    ordered: bool = False
    at: Where = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Not:
    operand: Node
    at: Where = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]
    at: Where = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]
    at: Where = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Field:
    """``name:value`` for lang, source, author, site, country (value normalised)."""

    name: str
    value: str
    at: Where = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Followers:
    """``followers:`` comparison as inclusive bounds (``>10000`` is ``low=10001``)."""

    low: int | None
    high: int | None
    at: Where = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Title:
    """``title:…``: the inner query is matched against the title only."""

    query: Node
    at: Where = field(default=_NOWHERE, compare=False, repr=False)


Node = Term | Phrase | Near | Not | And | Or | Field | Followers | Title
# Nodes that match at positions in the text, hence allowed around NEAR.
Positional = Term | Phrase | Near | Or


def is_positional(node: Node) -> bool:
    """Whether ``node`` can be an operand of NEAR/ONEAR (words, phrases, ORs of them)."""
    if isinstance(node, Or):
        return all(is_positional(operand) for operand in node.operands)
    return isinstance(node, Term | Phrase | Near)


def negate(node: Node, at: Where) -> Node:
    """``NOT node``, with double negation removed (``NOT NOT a`` is ``a``)."""
    return node.operand if isinstance(node, Not) else Not(node, at)


def join(kind: type[And] | type[Or], operands: list[Node], at: Where) -> Node:
    """An AND/OR of ``operands``, flattened (``a AND (b AND c)`` has three operands)."""
    flat: list[Node] = []
    for operand in operands:
        flat.extend(operand.operands if isinstance(operand, kind) else (operand,))
    return flat[0] if len(flat) == 1 else kind(tuple(flat), at)


# --- printing --------------------------------------------------------------------------

_BARE_VALUE = re.compile(r'[^\s()"{}]+')
_LEVEL_OR, _LEVEL_AND, _LEVEL_NOT, _LEVEL_NEAR, _LEVEL_ATOM = range(5)


def _level(node: Node) -> int:
    if isinstance(node, Or):
        return _LEVEL_OR
    if isinstance(node, And):
        return _LEVEL_AND
    if isinstance(node, Not):
        return _LEVEL_NOT
    if isinstance(node, Near):
        return _LEVEL_NEAR
    return _LEVEL_ATOM


def _wrap(node: Node, minimum: int) -> str:
    text = canonical(node)
    return text if _level(node) >= minimum else f"({text})"


def canonical(node: Node) -> str:
    """The normalised text of ``node``; it parses back to an equal tree."""
    if isinstance(node, Term):
        return f"{{{node.pattern}}}" if node.exact else node.pattern
    if isinstance(node, Phrase):
        words = " ".join(word.pattern for word in node.words)
        if node.words[0].exact:
            return f"{{{words}}}"
        return f'"{words}"' + (f"~{node.slop}" if node.slop is not None else "")
    if isinstance(node, Near):
        operator = f"{'ONEAR' if node.ordered else 'NEAR'}/{node.distance}"
        # Left-associative: a NEAR chain on the left needs no parentheses.
        return f"{_wrap(node.left, _LEVEL_NEAR)} {operator} {_wrap(node.right, _LEVEL_ATOM)}"
    if isinstance(node, Not):
        return f"NOT {_wrap(node.operand, _LEVEL_NEAR)}"
    if isinstance(node, And):
        return " AND ".join(_wrap(operand, _LEVEL_NOT) for operand in node.operands)
    if isinstance(node, Or):
        return " OR ".join(_wrap(operand, _LEVEL_AND) for operand in node.operands)
    if isinstance(node, Field):
        value = node.value if _BARE_VALUE.fullmatch(node.value) else f'"{node.value}"'
        return f"{node.name}:{value}"
    if isinstance(node, Followers):
        if node.low is not None and node.low == node.high:
            return f"followers:{node.low}"
        if node.high is None:
            return f"followers:>={node.low}"
        if node.low is None:
            return f"followers:<={node.high}"
        return f"followers:{node.low}..{node.high}"
    inner = node.query
    if isinstance(inner, Term | Phrase):
        return f"title:{canonical(inner)}"
    return f"title:({canonical(inner)})"


def leaves(node: Node) -> list[Node]:
    """Terms, phrases, NEAR expressions and filters of ``node``, in query order."""
    if isinstance(node, Not):
        return leaves(node.operand)
    if isinstance(node, And | Or):
        return [leaf for operand in node.operands for leaf in leaves(operand)]
    if isinstance(node, Title):
        return leaves(node.query)
    return [node]
