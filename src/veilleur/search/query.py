"""What a person types in the search box, parsed into terms no database can choke on.

The accepted syntax is deliberately small (the boolean watch language lives in
``veilleur.analysis.query``):

- words, all required (implicit AND): ``panne fibre``;
- ``"exact phrase"`` (an unterminated quote runs to the end of the input);
- ``boulang*``: a prefix of at least :data:`MIN_PREFIX_CHARS` letters;
- ``-word`` or ``-"phrase"`` excludes, when at least one term is required.

Everything else is text: ``AND``, ``OR``, ``NEAR``, ``col:``, ``^``, parentheses
are searched as the words they contain (or ignored when they contain none), so no
input can produce a syntax error in FTS5 or ``to_tsquery``. Words are what
SQLite's ``unicode61`` tokenizer calls tokens: runs of letters and digits; case and
diacritics are folded (``dégoûté`` = ``degoute``) and an apostrophe separates, so
``l'hôtel`` contains ``hôtel``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# A search longer than this was not typed by a person (same bound as the filters).
MAX_QUERY_CHARS = 200
# Each term is one more doclist to merge; a dozen is plenty for a search box.
MAX_TERMS = 12
MAX_PHRASE_WORDS = 8
# A shorter prefix would expand to most of the vocabulary; the FTS5 table keeps a
# prefix index of exactly this length so the common case is a single lookup.
MIN_PREFIX_CHARS = 3
# A word longer than this is not a word (base64 blobs, URLs squashed by spam).
MAX_WORD_CHARS = 64

# Tokens, as unicode61 sees them: letters and digits; "_" is punctuation there.
WORD = re.compile(r"[^\W_]+")
# A raw piece of input: an optionally negated "phrase" (maybe unterminated) or a run
# of non-space characters.
_PIECE = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def fold(word: str) -> str:
    """Lower-case ``word`` and strip its diacritics, as ``remove_diacritics 2`` does."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words_of(text: str) -> list[str]:
    """The words of ``text`` in order, unfolded (NFC, so ``e`` + accent is one letter)."""
    return [w[:MAX_WORD_CHARS] for w in WORD.findall(unicodedata.normalize("NFC", text))]


@dataclass(frozen=True)
class Term:
    """One required or excluded unit: a word, a phrase of words, or a prefix."""

    words: tuple[str, ...]
    prefix: bool = False
    negated: bool = False

    @property
    def folded(self) -> tuple[str, ...]:
        return tuple(fold(w) for w in self.words)

    def __str__(self) -> str:
        text = " ".join(self.words)
        if len(self.words) > 1:
            text = f'"{text}"'
        return ("-" if self.negated else "") + text + ("*" if self.prefix else "")


@dataclass(frozen=True)
class SearchQuery:
    """A parsed search: required terms (``include``) and excluded ones (``exclude``)."""

    include: tuple[Term, ...] = ()
    exclude: tuple[Term, ...] = field(default=())

    def __bool__(self) -> bool:
        # Exclusions alone would mean "everything except": that is a filter, not a search.
        return bool(self.include)

    def __str__(self) -> str:
        return " ".join(str(t) for t in (*self.include, *self.exclude))


def parse(text: str) -> SearchQuery:
    """Parse what a person typed; never raises, an unusable input gives an empty query."""
    include: list[Term] = []
    exclude: list[Term] = []
    for match in _PIECE.finditer(text[:MAX_QUERY_CHARS]):
        if len(include) + len(exclude) >= MAX_TERMS:
            break
        quoted_neg, phrase, bare = match.groups()
        if bare is None:
            term = _term(phrase, negated=bool(quoted_neg), prefix=False)
        else:
            negated = bare.startswith("-") and len(bare) > 1
            body = bare[1:] if negated else bare
            prefix = body.endswith("*")
            term = _term(body.rstrip("*"), negated=negated, prefix=prefix)
        if term is None:
            continue
        (exclude if term.negated else include).append(term)
    return SearchQuery(_unique(include), _unique(exclude))


def _term(text: str, *, negated: bool, prefix: bool) -> Term | None:
    words = words_of(text)[:MAX_PHRASE_WORDS]
    if not words:
        return None
    # A prefix only makes sense on one word long enough not to match half the index.
    prefix = prefix and len(words) == 1 and len(words[0]) >= MIN_PREFIX_CHARS
    return Term(tuple(words), prefix=prefix, negated=negated)


def _unique(terms: list[Term]) -> tuple[Term, ...]:
    seen: set[tuple[tuple[str, ...], bool]] = set()
    out = []
    for term in terms:
        key = (term.folded, term.prefix)
        if key not in seen:
            seen.add(key)
            out.append(term)
    return tuple(out)


# --- SQLite FTS5 ------------------------------------------------------------------------


def _fts5_string(words: tuple[str, ...]) -> str:
    # Inside an FTS5 string only '"' is special, and it is doubled. Words hold letters
    # and digits only, but quoting is what makes operators and column names inert.
    return '"' + " ".join(words).replace('"', '""') + '"'


def _fts5_term(term: Term) -> str:
    return _fts5_string(term.words) + (" *" if term.prefix else "")


def to_fts5(query: SearchQuery) -> str:
    """The FTS5 expression for ``query``, restricted to the title and text columns.

    Every word is a quoted string, so keywords (AND, NEAR...), column filters and
    special characters typed by the user are only ever text. The caller must not
    pass an empty query (there is nothing to match).
    """
    if not query:
        raise ValueError("an empty search has no FTS5 expression")
    expr = "(" + " AND ".join(_fts5_term(t) for t in query.include) + ")"
    for term in query.exclude:
        expr = f"({expr} NOT {_fts5_term(term)})"
    return "{title text} : " + expr
