"""Required literals: the cheap necessary condition behind the prefilter.

For a query, :func:`required_literals` gives a set of strings of which at least one
must occur in a mention's *haystack* (its folded words joined by single spaces, with
a space at each end) for the query to have any chance of matching; ``None`` when no
such set exists (a query made only of NOT or field filters can match a mention
without any particular word).

A plain word ``nuvia`` requires ``" nuvia "``; a wildcard requires its longest
literal run, anchored with a space on the sides where the pattern has no wildcard
(``boulang*`` requires ``" boulang"``). A phrase or NEAR requires one of its words;
an AND, the most selective requirement among its operands; an OR, the union of its
operands' (or nothing, if one of them has none).
"""

from __future__ import annotations

import re

from veilleur.analysis.query_ast import And, Near, Node, Not, Or, Phrase, Term, Title

Required = frozenset[str] | None
_LITERAL_RUNS = re.compile(r"[^*?]+")


def required_literals(node: Node) -> Required:
    """Strings of which one must be in a matching mention's haystack, or None."""
    if isinstance(node, Term):
        return frozenset({_term_literal(node)})
    if isinstance(node, Phrase):
        return _most_selective([frozenset({_term_literal(word)}) for word in node.words])
    if isinstance(node, Near):
        return _most_selective([required_literals(node.left), required_literals(node.right)])
    if isinstance(node, Title):
        return required_literals(node.query)  # the title's words are in the haystack too
    if isinstance(node, And):
        return _most_selective([required_literals(operand) for operand in node.operands])
    if isinstance(node, Or):
        union: set[str] = set()
        for operand in node.operands:
            required = required_literals(operand)
            if required is None:
                return None
            union |= required
        return frozenset(union)
    if isinstance(node, Not):
        return None
    return None  # field filters


def _term_literal(term: Term) -> str:
    if not term.is_wildcard:
        return f" {term.folded} "
    pattern = term.pattern
    run = max(_LITERAL_RUNS.finditer(pattern), key=lambda m: m.end() - m.start())
    left = " " if run.start() == 0 else ""
    right = " " if run.end() == len(pattern) else ""
    return f"{left}{run.group()}{right}"


def _most_selective(candidates: list[Required]) -> Required:
    """The requirement least likely to be met: fewest alternatives, longest strings."""
    usable = [c for c in candidates if c is not None]
    if not usable:
        return None
    return min(usable, key=lambda c: (len(c), -min(len(s.strip()) for s in c)))
