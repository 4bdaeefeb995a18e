"""Parsing a query into a syntax tree (recursive descent, one token of look-ahead).

Grammar, from the loosest operator to the tightest::

    query   := or END
    or      := and ( "OR" and )*
    and     := unary ( ["AND"] unary )*          # a missing operator means AND
    unary   := ( "NOT" | "-" )* near
    near    := primary ( ("NEAR/n" | "ONEAR/n") primary )*
    primary := term | "phrase" | "phrase"~n | {Exact} | field:value
             | title:primary | "(" or ")"

So NOT binds tighter than AND, and AND tighter than OR: ``a OR b c`` is
``a OR (b AND c)`` and ``NOT a b`` is ``(NOT a) AND b``; NEAR binds tighter still,
so ``NOT a NEAR/3 b`` excludes the pair.
"""

from __future__ import annotations

from collections.abc import Iterator

from veilleur.analysis.query_ast import (
    And,
    Near,
    Node,
    Or,
    Title,
    is_positional,
    join,
    negate,
)
from veilleur.analysis.query_errors import QuerySyntaxError
from veilleur.analysis.query_lexer import (
    AND,
    END,
    LEAF,
    LPAREN,
    MINUS,
    NEAR,
    NOT,
    OR,
    RPAREN,
    TITLE,
    Lexeme,
    lex,
)

MAX_DEPTH = 32
_STARTS_OPERAND = frozenset({LEAF, TITLE, LPAREN, NOT, MINUS})
_STARTS_PRIMARY = frozenset({LEAF, TITLE, LPAREN})


def parse(source: str) -> Node:
    """The syntax tree of ``source``; raise QuerySyntaxError at the first problem."""
    return _Parser(source).parse()


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens: Iterator[Lexeme] = lex(source)
        self.current = next(self.tokens)
        self.open_parens: list[int] = []

    def advance(self) -> Lexeme:
        token = self.current
        if token.kind != END:
            self.current = next(self.tokens)
        return token

    def parse(self) -> Node:
        if self.current.kind == END:
            raise QuerySyntaxError("empty_query", 0, expected="term")
        node = self.parse_or()
        if self.current.kind == RPAREN:
            raise QuerySyntaxError("unexpected_paren", self.current.start)
        return node

    def expect_operand_after(self, operator: Lexeme, allowed: frozenset[str]) -> None:
        token = self.current
        if token.kind in allowed:
            return
        if operator.kind == NEAR and token.kind in (NOT, MINUS):
            raise QuerySyntaxError("near_operand", token.start, expected="term",
                                   op=operator.text)
        raise QuerySyntaxError("expected_term", token.start, expected="term",
                               after=operator.text)

    def parse_or(self) -> Node:
        parts = [self.parse_and()]
        while self.current.kind == OR:
            self.expect_operand_after(self.advance(), _STARTS_OPERAND)
            parts.append(self.parse_and())
        return join(Or, parts, (_at(parts[0])[0], _at(parts[-1])[1]))

    def parse_and(self) -> Node:
        parts = [self.parse_unary()]
        while True:
            if self.current.kind == AND:
                self.expect_operand_after(self.advance(), _STARTS_OPERAND)
            elif self.current.kind not in _STARTS_OPERAND:
                break
            parts.append(self.parse_unary())
        return join(And, parts, (_at(parts[0])[0], _at(parts[-1])[1]))

    def parse_unary(self) -> Node:
        negations: list[Lexeme] = []
        while self.current.kind in (NOT, MINUS):
            negations.append(self.advance())
            self.expect_operand_after(negations[-1], _STARTS_OPERAND)
        node = self.parse_near()
        # Iterative, so that a long run of NOTs cannot exhaust the stack.
        for operator in reversed(negations):
            node = negate(node, (operator.start, _at(node)[1]))
        return node

    def parse_near(self) -> Node:
        left = self.parse_primary()
        while self.current.kind == NEAR:
            operator = self.advance()
            if not is_positional(left):
                raise QuerySyntaxError("near_operand", operator.start, op=operator.text)
            self.expect_operand_after(operator, _STARTS_PRIMARY)
            right_start = self.current.start
            right = self.parse_primary()
            if not is_positional(right):
                raise QuerySyntaxError("near_operand", right_start, op=operator.text)
            left = Near(left, right, operator.distance, operator.ordered,
                        (_at(left)[0], _at(right)[1]))
        return left

    def parse_primary(self) -> Node:
        token = self.current
        if token.kind == LEAF:
            self.advance()
            assert token.node is not None
            return token.node
        if token.kind == TITLE:
            self.advance()
            self.expect_operand_after(token, _STARTS_PRIMARY)
            inner = self.parse_primary()
            return Title(inner, (token.start, _at(inner)[1]))
        if token.kind == LPAREN:
            return self.parse_group()
        if token.kind == RPAREN:
            raise QuerySyntaxError("unexpected_paren", token.start)
        if token.kind == END:  # only after "(": other places check for an operand first
            raise QuerySyntaxError("unclosed_paren", self.open_parens[-1], expected=")")
        # AND, OR or NEAR with nothing on their left.
        raise QuerySyntaxError("expected_term_before", token.start, expected="term",
                               op=token.text)

    def parse_group(self) -> Node:
        opening = self.advance()
        if len(self.open_parens) >= MAX_DEPTH:
            raise QuerySyntaxError("too_deep", opening.start, max=MAX_DEPTH)
        if self.current.kind == RPAREN:
            raise QuerySyntaxError("empty_group", opening.start, expected="term")
        self.open_parens.append(opening.start)
        node = self.parse_or()
        self.open_parens.pop()
        if self.current.kind != RPAREN:
            raise QuerySyntaxError("unclosed_paren", opening.start, expected=")")
        self.advance()
        return node


def _at(node: Node) -> tuple[int, int]:
    return node.at
