"""Compiling a syntax tree into nested closures, the fast way to evaluate it.

:func:`veilleur.analysis.query_match.evaluate` walks the tree for every mention;
here the walk happens once, at compile time. Words and phrases of plain (or
wildcard) words become substring or regular-expression searches in the mention's
haystack (its folded words joined by single spaces), which run in C and need no
word index; what needs word positions or original spellings (NEAR, ``"..."~n``,
exact case, ``title:``) and field filters fall back to the tree walker. The two
always agree (a property test checks it).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from veilleur.analysis.query_ast import And, Near, Node, Not, Or, Phrase, Term, Title
from veilleur.analysis.query_match import PreparedDoc, evaluate

Test = Callable[[PreparedDoc], bool]


def compile_test(node: Node) -> Test:
    """A function telling whether ``node`` matches a prepared mention."""
    if isinstance(node, Term) and not node.exact:
        return _haystack_test([node])
    if isinstance(node, Phrase) and node.slop is None and not node.words[0].exact:
        return _haystack_test(list(node.words))
    if isinstance(node, And | Or):
        return _boolean(node)
    if isinstance(node, Not):
        inner = compile_test(node.operand)
        return lambda doc: not inner(doc)
    necessary = _necessary(node)
    if necessary is None:
        return lambda doc: evaluate(node, doc)
    # Positions are costly (a word index, maybe offsets): look for them only when
    # the words involved are all there.
    return lambda doc: necessary(doc) and evaluate(node, doc)


def _necessary(node: Node) -> Test | None:
    """A cheap test that ``node`` needs to pass (None: nothing cheap to check)."""
    if isinstance(node, Term | Phrase):
        words = node.words if isinstance(node, Phrase) else (node,)
        tests = [_haystack_test([Term(word.folded) if word.exact else word])
                 for word in words]
        return tests[0] if len(tests) == 1 else _all(tests)
    if isinstance(node, Near):
        return _all([compile_test(node.left), compile_test(node.right)])
    if isinstance(node, Title) and not _negates(node.query):
        # The title's words are in the haystack too (and a phrase cannot cross into
        # the text: a lone newline separates them there). Under NOT this no longer
        # holds: `title:(NOT x)` is true of a title without x whatever the text says.
        return compile_test(node.query)
    return None


def _negates(node: Node) -> bool:
    """True when a NOT appears anywhere under ``node``."""
    if isinstance(node, Not):
        return True
    if isinstance(node, And | Or):
        return any(_negates(operand) for operand in node.operands)
    if isinstance(node, Title):
        return _negates(node.query)
    return False


def _haystack_test(words: list[Term]) -> Test:
    if not any(word.is_wildcard for word in words):
        needle = " " + " ".join(word.pattern for word in words) + " "
        return lambda doc: needle in doc.haystack
    body = " ".join(_wildcard_regex(word.pattern) for word in words)
    search = re.compile(f"(?<= ){body}(?= )").search
    return lambda doc: search(doc.haystack) is not None


def _wildcard_regex(pattern: str) -> str:
    # Words never hold spaces: a wildcard stays inside one word of the haystack.
    return "".join("[^ ]*" if c == "*" else "[^ ]" if c == "?" else re.escape(c)
                   for c in pattern)


def _boolean(node: And | Or) -> Test:
    tests = [compile_test(operand) for operand in node.operands]
    return _all(tests) if isinstance(node, And) else _any(tests)


def _all(tests: list[Test]) -> Test:
    if len(tests) == 2:
        first, second = tests
        return lambda doc: first(doc) and second(doc)
    frozen = tuple(tests)

    def all_of(doc: PreparedDoc) -> bool:
        for test in frozen:  # noqa: SIM110 (a loop is faster than all(genexpr))
            if not test(doc):
                return False
        return True

    return all_of


def _any(tests: list[Test]) -> Test:
    if len(tests) == 2:
        first, second = tests
        return lambda doc: first(doc) or second(doc)
    frozen = tuple(tests)

    def any_of(doc: PreparedDoc) -> bool:
        for test in frozen:  # noqa: SIM110 (a loop is faster than any(genexpr))
            if test(doc):
                return True
        return False

    return any_of
