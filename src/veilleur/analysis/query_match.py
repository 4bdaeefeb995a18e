"""Evaluating a query's syntax tree against a mention.

A mention is read once into a :class:`PreparedDoc`: the words of its title and text
with their positions and offsets. Plain terms look in the title and the text (as one
stream, with a wide gap of positions between them so that phrases and NEAR never
straddle the two); ``title:`` looks in the title only. Positions count words, so
``NEAR/3`` means at most three words in between.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from veilleur.analysis.query_ast import (
    MAX_NEAR_DISTANCE,
    And,
    Field,
    Followers,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Term,
    Title,
    canonical,
    leaves,
)
from veilleur.analysis.query_lexer import normalise_field_value
from veilleur.analysis.text import Token, match_words, word_tokens

# Positions between the title's last word and the text's first: more than any NEAR
# distance or phrase window, so no match spans both.
_FIELD_GAP = 10 * MAX_NEAR_DISTANCE + 1000

# A match as (first word position, last word position).
Hit = tuple[int, int]


@dataclass(frozen=True)
class MentionDoc:
    """What a query is matched against: a mention's text and its filterable fields.

    ``site`` is a host name (a URL is accepted: its host is used); ``followers`` is
    the author's audience, ``None`` when unknown (then no ``followers:`` filter
    matches it).
    """

    text: str
    title: str = ""
    lang: str = ""
    source: str = ""
    author: str = ""
    site: str = ""
    country: str = ""
    followers: int | None = None


@dataclass(frozen=True)
class Span:
    """Where a term matched: ``field`` is ``"text"`` or ``"title"``, offsets ``[start, end)``.

    Offsets index the field's text after NFC normalisation (what the pipeline stores).
    """

    field: str
    start: int
    end: int


class WordStream:
    """The words of a mention's title and text, with positions and an index by word.

    Positions and the index come from the folded words alone; the tokens with their
    offsets (for exact case and explanations) are read only when asked for.
    """

    __slots__ = ("_index", "_tokens", "base", "texts", "title_count", "words")

    def __init__(self, title: str, text: str, title_words: list[str],
                 text_words: list[str]) -> None:
        self.texts = (title, text)
        self.title_count = len(title_words)
        self.base = self.title_count + _FIELD_GAP if title_words else 0
        self.words = title_words + text_words
        self._index: dict[str, list[int]] | None = None
        self._tokens: tuple[list[Token], list[Token]] | None = None

    def index(self) -> dict[str, list[int]]:
        """Folded word -> its positions, ascending (built on first use)."""
        if self._index is None:
            index: dict[str, list[int]] = {}
            for number, word in enumerate(self.words):
                position = number if number < self.title_count \
                    else number - self.title_count + self.base
                index.setdefault(word, []).append(position)
            self._index = index
        return self._index

    def token_at(self, position: int) -> tuple[int, Token]:
        """(0 for title or 1 for text, the token) at a word position."""
        if self._tokens is None:
            title, text = self.texts
            self._tokens = (word_tokens(title) if self.title_count else [], word_tokens(text))
        if position < self.title_count:
            return 0, self._tokens[0][position]
        return 1, self._tokens[1][position - self.base]

    def raw(self, position: int) -> str:
        """The word at ``position`` as written (typographic apostrophe made plain)."""
        which, token = self.token_at(position)
        return self.texts[which][token.start:token.end].replace("’", "'")

    def in_title(self, position: int) -> bool:
        return position < self.title_count

    def span(self, hit: Hit) -> Span:
        which, first = self.token_at(hit[0])
        _, last = self.token_at(hit[1])
        return Span("title" if which == 0 else "text", first.start, last.end)


class PreparedDoc:
    """A mention read once for any number of queries.

    ``haystack`` is the folded words joined by single spaces with a space at each
    end, the title's words first and a lone ``\n`` between title and text: word and
    phrase tests are substring searches in it, and the prefilter scans it. The word
    stream with positions and offsets (for NEAR, exact case, explain) is built only
    when a query needs it.
    """

    __slots__ = ("_stream", "_words", "doc", "haystack", "text", "title")

    def __init__(self, doc: MentionDoc) -> None:
        self.doc = doc
        self.title = _nfc(doc.title)
        self.text = _nfc(doc.text)
        title_words = match_words(self.title) if self.title else []
        text_words = match_words(self.text)
        self._words = (title_words, text_words)
        if title_words:
            self.haystack = f" {' '.join(title_words)} \n {' '.join(text_words)} "
        else:
            self.haystack = f" {' '.join(text_words)} "
        self._stream: WordStream | None = None

    @property
    def stream(self) -> WordStream:
        """Word positions and offsets, built on first use."""
        if self._stream is None:
            self._stream = WordStream(self.title, self.text, *self._words)
        return self._stream


def prepare(doc: MentionDoc | str | PreparedDoc) -> PreparedDoc:
    """A PreparedDoc for a mention, a plain text (no fields) or an already prepared one."""
    if isinstance(doc, PreparedDoc):
        return doc
    return PreparedDoc(MentionDoc(text=doc) if isinstance(doc, str) else doc)


def _nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


# --- evaluation ------------------------------------------------------------------------


def evaluate(node: Node, doc: PreparedDoc, title_only: bool = False) -> bool:
    """Whether ``node`` matches ``doc`` (``title_only`` inside ``title:``)."""
    if isinstance(node, Term):
        if not title_only and not node.exact and not node.is_wildcard:
            return node.pattern in doc.stream.index()  # the common case, kept cheap
        return bool(_term_hits(node, doc.stream, title_only))
    if isinstance(node, And):
        return all(evaluate(operand, doc, title_only) for operand in node.operands)
    if isinstance(node, Or):
        return any(evaluate(operand, doc, title_only) for operand in node.operands)
    if isinstance(node, Not):
        return not evaluate(node.operand, doc, title_only)
    if isinstance(node, Phrase | Near):
        return bool(hits(node, doc.stream, title_only))
    if isinstance(node, Title):
        return evaluate(node.query, doc, True)
    if isinstance(node, Followers):
        followers = doc.doc.followers
        return followers is not None \
            and (node.low is None or followers >= node.low) \
            and (node.high is None or followers <= node.high)
    return _field_matches(node, doc.doc)


def _field_matches(node: Field, doc: MentionDoc) -> bool:
    value = normalise_field_value(node.name, getattr(doc, node.name))
    if not value:
        return False
    if node.name == "site":
        return value == node.value or value.endswith("." + node.value)
    if node.name == "lang":  # lang:fr also takes fr-CA and fr_BE
        return value == node.value or value.replace("_", "-").startswith(node.value + "-")
    return value == node.value


def hits(node: Node, stream: WordStream, title_only: bool = False) -> list[Hit]:
    """Where a positional node (term, phrase, NEAR, OR of those) matches, sorted."""
    if isinstance(node, Term):
        return [(p, p) for p in _term_hits(node, stream, title_only)]
    if isinstance(node, Phrase):
        positions = [_term_hits(word, stream, title_only) for word in node.words]
        if node.slop is None:
            return _consecutive(positions)
        return _within_window(positions, len(node.words) + node.slop)
    if isinstance(node, Near):
        return _near(hits(node.left, stream, title_only), hits(node.right, stream, title_only),
                     node.distance, node.ordered)
    if isinstance(node, Or):
        return sorted({hit for operand in node.operands
                       for hit in hits(operand, stream, title_only)})
    return []


def _term_hits(term: Term, stream: WordStream, title_only: bool) -> list[int]:
    index = stream.index()
    if term.is_wildcard:
        matcher = _wildcard(term.pattern)
        found = sorted(p for word, positions in index.items() if matcher(word)
                       for p in positions)
    elif term.exact:
        found = [p for p in index.get(term.folded, ()) if stream.raw(p) == term.pattern]
    else:
        found = index.get(term.pattern, [])
    if title_only:
        return [p for p in found if stream.in_title(p)]
    return found


@lru_cache(maxsize=4096)
def _wildcard(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """A test for whole folded words: ``*`` any run of characters, ``?`` exactly one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL).fullmatch


def _consecutive(positions: list[list[int]]) -> list[Hit]:
    later = [set(p) for p in positions[1:]]
    last = len(positions) - 1
    return [(start, start + last) for start in positions[0]
            if all(start + k + 1 in found for k, found in enumerate(later))]


def _within_window(positions: list[list[int]], width: int) -> list[Hit]:
    """Windows of ``width`` positions holding one distinct position per word."""
    if any(not p for p in positions):
        return []
    # Rarest word first: a window without it fails at once, whatever the others.
    positions = sorted(positions, key=len)
    out: list[Hit] = []
    starts = sorted({p for found in positions for p in found})
    for low in starts:
        chosen = _assign(positions, low, low + width - 1, 0, set())
        if chosen is not None:
            hit = (min(chosen), max(chosen))
            if not out or out[-1] != hit:
                out.append(hit)
    return out


def _assign(positions: list[list[int]], low: int, high: int, k: int,
            used: set[int]) -> set[int] | None:
    """Distinct positions in ``[low, high]``, one per word from ``k`` on (backtracking)."""
    if k == len(positions):
        return set(used)
    found = positions[k]
    for p in found[bisect_left(found, low):bisect_right(found, high)]:
        if p not in used:
            used.add(p)
            chosen = _assign(positions, low, high, k + 1, used)
            used.discard(p)
            if chosen is not None:
                return chosen
    return None


def _near(left: list[Hit], right: list[Hit], distance: int, ordered: bool) -> list[Hit]:
    """Pairs with at most ``distance`` words between them, right after left (or either)."""
    out: set[Hit] = set()
    right_starts = sorted(right)
    starts = [hit[0] for hit in right_starts]
    for first, last in left:
        # right hits starting after this left hit, within the distance
        low = bisect_right(starts, last)
        high = bisect_right(starts, last + distance + 1)
        out.update((first, r_last) for _, r_last in right_starts[low:high])
    if not ordered:
        left_starts = sorted(left)
        starts = [hit[0] for hit in left_starts]
        for first, last in right:
            low = bisect_right(starts, last)
            high = bisect_right(starts, last + distance + 1)
            out.update((first, l_last) for _, l_last in left_starts[low:high])
    return sorted(out)


# --- explanation -----------------------------------------------------------------------


@dataclass(frozen=True)
class TermMatch:
    """One term of a query and whether (and where) it was found in a mention.

    ``term`` is the term as written in the query, ``query_start``/``query_end`` its
    offsets there; ``negated`` is true under NOT (found means the mention is
    excluded by it); ``spans`` are empty for field filters and for terms not found.
    """

    term: str
    query_start: int
    query_end: int
    matched: bool
    negated: bool
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Explanation:
    """Whether the query matched, and the verdict of each of its terms."""

    matched: bool
    terms: tuple[TermMatch, ...]


def explain(node: Node, source: str, doc: PreparedDoc) -> Explanation:
    """Per-term verdicts of ``node`` (parsed from ``source``) on ``doc``."""
    terms = [_explain_leaf(leaf, source, doc, negated, title_only)
             for leaf, negated, title_only in _walk(node, False, False)]
    return Explanation(evaluate(node, doc), tuple(terms))


def _walk(node: Node, negated: bool, title_only: bool) -> list[tuple[Node, bool, bool]]:
    if isinstance(node, Not):
        return _walk(node.operand, not negated, title_only)
    if isinstance(node, And | Or):
        return [leaf for operand in node.operands
                for leaf in _walk(operand, negated, title_only)]
    if isinstance(node, Title):
        if isinstance(node.query, Term | Phrase | Near):
            return [(node, negated, True)]  # reported as written: title:word
        return _walk(node.query, negated, True)
    return [(leaf, negated, title_only) for leaf in leaves(node)]


def _explain_leaf(leaf: Node, source: str, doc: PreparedDoc, negated: bool,
                  title_only: bool) -> TermMatch:
    start, end = leaf.at
    written = source[start:end] if end > start else canonical(leaf)
    positional = leaf.query if isinstance(leaf, Title) else leaf
    if isinstance(positional, Term | Phrase | Near):
        found = hits(positional, doc.stream, title_only)
        spans = tuple(doc.stream.span(hit) for hit in found)
        return TermMatch(written, start, end, bool(found), negated, spans)
    return TermMatch(written, start, end, evaluate(leaf, doc, title_only), negated, ())
