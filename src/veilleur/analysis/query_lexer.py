"""Reading a query into tokens: operators, parentheses, and ready-made leaf nodes.

The lexer is a generator so that the parser sees errors in reading order: the first
problem from the left is the one reported. Leaves (terms, phrases, exact-case terms,
field filters) come out as syntax-tree nodes, already folded and checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from veilleur.analysis.query_ast import (
    FIELDS,
    MAX_NEAR_DISTANCE,
    Field,
    Followers,
    Node,
    Phrase,
    Term,
)
from veilleur.analysis.query_errors import QuerySyntaxError
from veilleur.analysis.text import match_fold, word_tokens

MAX_QUERY_CHARS = 2000
MAX_TERMS = 200
MIN_WILDCARD_LITERALS = 2

# Token kinds.
LEAF, TITLE, AND, OR, NOT, MINUS, NEAR, LPAREN, RPAREN, END = (
    "leaf", "title", "AND", "OR", "NOT", "-", "NEAR", "(", ")", "end")

_STOP = frozenset(' \t\n\r\f\v()"{}')
_FIELD = re.compile(r"([A-Za-z_]+):(.*)", re.DOTALL)
_NEAR = re.compile(r"(O?NEAR)(?:/(.*))?", re.DOTALL)
_DIGITS = re.compile(r"[0-9]{1,4}")
_FOLLOWERS = re.compile(r"(>=|<=|>|<|=)?([0-9]+(?:\.[0-9]+)?[km]?)", re.IGNORECASE)
_RANGE = re.compile(r"([0-9]+(?:\.[0-9]+)?[km]?)\.\.([0-9]+(?:\.[0-9]+)?[km]?)", re.IGNORECASE)
_HOST = re.compile(r"[\w-]+(?:\.[\w-]+)*")
_MAX_FOLLOWERS = 10**15


@dataclass(frozen=True)
class Lexeme:
    """One token: its kind, where it was written, and its node or NEAR distance."""

    kind: str
    start: int
    end: int
    text: str = ""
    node: Node | None = None
    distance: int = 0
    ordered: bool = False


def lex(source: str) -> Iterator[Lexeme]:
    """Tokens of ``source``, then one ``END``; raise QuerySyntaxError at the first problem."""
    if len(source) > MAX_QUERY_CHARS:
        raise QuerySyntaxError("too_long", MAX_QUERY_CHARS, length=len(source),
                               max=MAX_QUERY_CHARS)
    i, n, leaves = 0, len(source), 0
    while True:
        while i < n and source[i].isspace():
            i += 1
        if i >= n:
            yield Lexeme(END, n, n)
            return
        char = source[i]
        if char in "()":
            yield Lexeme(LPAREN if char == "(" else RPAREN, i, i + 1, char)
            i += 1
            continue
        if char == "-":
            if i + 1 >= n or source[i + 1].isspace() or source[i + 1] == ")":
                raise QuerySyntaxError("expected_term", i + 1, expected="term", after="-")
            yield Lexeme(MINUS, i, i + 1, "-")
            i += 1
            continue
        if char == "}":
            raise QuerySyntaxError("unexpected_char", i, char="}")
        if char == '"':
            lexeme = _phrase(source, i)
        elif char == "{":
            lexeme = _exact(source, i)
        else:
            end = i
            while end < n and source[end] not in _STOP:
                end += 1
            chunk = source[i:end]
            if chunk in ("AND", "OR", "NOT"):
                yield Lexeme(chunk, i, end, chunk)
                i = end
                continue
            near = _NEAR.fullmatch(chunk)
            if near is not None:
                yield _near(near, i, end)
                i = end
                continue
            fielded = _FIELD.fullmatch(chunk)
            if fielded is not None:
                name = fielded.group(1).lower()
                if name not in FIELDS:
                    raise QuerySyntaxError("unknown_field", i, expected="term",
                                           field=fielded.group(1), known=", ".join(FIELDS))
                value_start = i + len(fielded.group(1)) + 1
                if name == "title":
                    if value_start >= n or source[value_start].isspace() \
                            or source[value_start] in ")}":
                        raise QuerySyntaxError("empty_field", value_start, expected="value",
                                               field="title")
                    yield Lexeme(TITLE, i, value_start, "title:")
                    i = value_start
                    continue
                lexeme = _field(source, name, i, value_start, end)
            else:
                lexeme = _bare(chunk, i, end)
        leaves += 1
        if leaves > MAX_TERMS:
            raise QuerySyntaxError("too_many_terms", lexeme.start, max=MAX_TERMS)
        yield lexeme
        i = lexeme.end


def _near(match: re.Match[str], start: int, end: int) -> Lexeme:
    operator, distance = match.group(1), match.group(2)
    if distance is None or not _DIGITS.fullmatch(distance) \
            or int(distance) > MAX_NEAR_DISTANCE:
        where = start + len(operator) + (1 if distance is not None else 0)
        raise QuerySyntaxError("bad_near_distance", where, expected="number",
                               op=operator + "/", max=MAX_NEAR_DISTANCE)
    return Lexeme(NEAR, start, end, match.group(0), distance=int(distance),
                  ordered=operator == "ONEAR")


def _terms(text: str, start: int, *, exact: bool = False) -> list[Term]:
    """The words of ``text`` (written at ``start``) as Term nodes, checked."""
    if exact:
        # Compare as written, apart from the typographic apostrophe (as in texts).
        raw = text.replace("’", "'")
        spans: list[tuple[int, int]] = []
        for token in word_tokens(raw):
            # A character that folds into several words (``½``) gives words sharing
            # raw text: as written, they are one word.
            if spans and token.start < spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], token.end))
            else:
                spans.append((token.start, token.end))
        return [Term(raw[s:e], True, (start + s, start + e)) for s, e in spans]
    terms: list[Term] = []
    for token in word_tokens(text, wildcards=True):
        term = Term(token.text, False, (start + token.start, start + token.end))
        if term.is_wildcard:
            literals = sum(c not in "*?#@" for c in token.text)
            if literals < MIN_WILDCARD_LITERALS:
                raise QuerySyntaxError("wildcard_too_short", term.at[0], expected="term",
                                       term=text[token.start:token.end],
                                       min=MIN_WILDCARD_LITERALS)
        terms.append(term)
    return terms


def _words_node(terms: list[Term], at: tuple[int, int], slop: int | None = None) -> Node:
    if len(terms) == 1:
        return Term(terms[0].pattern, terms[0].exact, at)
    return Phrase(tuple(Term(t.pattern, t.exact) for t in terms), slop, at)


def _bare(chunk: str, start: int, end: int) -> Lexeme:
    if "~" in chunk:
        raise QuerySyntaxError("misplaced_tilde", start + chunk.index("~"))
    terms = _terms(chunk, start)
    if not terms:
        raise QuerySyntaxError("empty_term", start, expected="term", term=chunk[:40])
    return Lexeme(LEAF, start, end, chunk, node=_words_node(terms, (start, end)))


def _phrase(source: str, start: int) -> Lexeme:
    close = source.find('"', start + 1)
    if close < 0:
        raise QuerySyntaxError("unclosed_quote", start, expected='"')
    terms = _terms(source[start + 1:close], start + 1)
    if not terms:
        raise QuerySyntaxError("empty_phrase", start, expected="term")
    end, slop = close + 1, None
    if end < len(source) and source[end] == "~":
        digits = end + 1
        while digits < len(source) and source[digits] not in _STOP:
            digits += 1
        number = source[end + 1:digits]
        if not _DIGITS.fullmatch(number) or int(number) > MAX_NEAR_DISTANCE:
            raise QuerySyntaxError("bad_near_distance", end + 1, expected="number", op="~",
                                   max=MAX_NEAR_DISTANCE)
        end, slop = digits, int(number)
    return Lexeme(LEAF, start, end, source[start:end],
                  node=_words_node(terms, (start, end), slop))


def _exact(source: str, start: int) -> Lexeme:
    close = source.find("}", start + 1)
    if close < 0:
        raise QuerySyntaxError("unclosed_brace", start, expected="}")
    inner = source[start + 1:close]
    wildcard = next((k for k, c in enumerate(inner) if c in "*?"), None)
    if wildcard is not None:
        raise QuerySyntaxError("wildcard_in_exact", start + 1 + wildcard)
    terms = _terms(inner, start + 1, exact=True)
    if not terms:
        raise QuerySyntaxError("empty_exact", start, expected="term")
    return Lexeme(LEAF, start, close + 1, source[start:close + 1],
                  node=_words_node(terms, (start, close + 1)))


def _field(source: str, name: str, start: int, value_start: int, end: int) -> Lexeme:
    """``name:value`` where the value is bare or, when nothing follows the colon, quoted."""
    value = source[value_start:end]
    if not value and value_start < len(source) and source[value_start] == '"':
        close = source.find('"', value_start + 1)
        if close < 0:
            raise QuerySyntaxError("unclosed_quote", value_start, expected='"')
        value, end = source[value_start + 1:close], close + 1
    if not value.strip():
        raise QuerySyntaxError("empty_field", value_start, expected="value", field=name)
    at = (start, end)
    if name == "followers":
        return Lexeme(LEAF, start, end, source[start:end],
                      node=_followers(value, value_start, at))
    normalised = normalise_field_value(name, value)
    if not normalised:
        raise QuerySyntaxError("bad_field_value", value_start, expected="value", field=name,
                               value=value[:60])
    return Lexeme(LEAF, start, end, source[start:end], node=Field(name, normalised, at))


def normalise_field_value(name: str, value: str) -> str:
    """The comparable form of a field value, in a query or in a mention ('' if unusable).

    Languages, sources and countries compare case-insensitively; authors also
    without accents or the leading ``@``; sites as lower-case host names (a URL
    gives its host).
    """
    value = value.strip()
    if name == "author":
        return match_fold(value).lstrip("@").strip()
    if name == "site":
        host = value.lower()
        if "://" in host:
            host = urlsplit(host).hostname or ""
        else:
            host = host.split("/", 1)[0].split(":", 1)[0]
        host = host.strip(".")
        return host if _HOST.fullmatch(host) else ""
    return value.casefold()


def _followers(value: str, position: int, at: tuple[int, int]) -> Followers:
    ranged = _RANGE.fullmatch(value)
    if ranged is not None:
        low, high = _count(ranged.group(1)), _count(ranged.group(2))
        if low is None or high is None or low > high:
            raise QuerySyntaxError("bad_followers", position, expected="number")
        return Followers(low, high, at)
    compared = _FOLLOWERS.fullmatch(value)
    number = _count(compared.group(2)) if compared is not None else None
    if compared is None or number is None:
        raise QuerySyntaxError("bad_followers", position, expected="number")
    operator = compared.group(1) or "="
    bounds = {">": (number + 1, None), ">=": (number, None), "<": (None, number - 1),
              "<=": (None, number), "=": (number, number)}[operator]
    return Followers(bounds[0], bounds[1], at)


def _count(text: str) -> int | None:
    """``12``, ``10k``, ``1.5M`` as a whole number; None when out of range or fractional."""
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1].lower(), 1)
    digits = text[:-1] if factor > 1 else text
    whole, _, fraction = digits.partition(".")
    if len(whole) > 15 or len(fraction) > 6:
        return None
    scaled = int(whole) * factor + (int(fraction) * factor // 10 ** len(fraction)
                                    if fraction else 0)
    if fraction and int(fraction) * factor % 10 ** len(fraction):
        return None
    return scaled if scaled <= _MAX_FOLLOWERS else None
