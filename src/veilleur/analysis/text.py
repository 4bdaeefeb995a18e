"""Text normalisation for mentions: every mention is hostile, unbounded text."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import NamedTuple

MAX_TEXT_CHARS = 20_000
MAX_TITLE_CHARS = 500

# C0/C1 control characters except tab and newline, plus zero-width and bidi
# overrides, which are used to disguise text and break layouts.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u3000]+")
_NEWLINES = re.compile(r"\n{3,}")
_WORD = re.compile(r"[#@]?\w+(?:[-']\w+)*", re.UNICODE)
_ELISION = re.compile(r"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)'", re.IGNORECASE)


def clean_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """NFC-normalise, drop control characters, collapse spaces, bound the length."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _NEWLINES.sub("\n\n", text)
    text = "\n".join(line.strip() for line in text.split("\n")).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def fold(text: str) -> str:
    """Case- and accent-insensitive form: ``Dégoûté`` -> ``degoute``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")


def words(text: str) -> list[str]:
    """Folded words, with hashtags and @handles kept whole and French elision split off.

    ``L'hôtel`` gives ``hotel``; ``#Boycott`` gives ``#boycott``.
    """
    out: list[str] = []
    for match in _WORD.finditer(fold(text)):
        word = _ELISION.sub("", match.group(0))
        if word:
            out.append(word)
    return out


def content_hash(text: str) -> str:
    """A stable key for exact-duplicate detection: SHA-1 of the folded words."""
    return hashlib.sha1(" ".join(words(text)).encode("utf-8"), usedforsecurity=False).hexdigest()


# --- word tokens with offsets (the query language's view of a text) -------------------
#
# ``words`` above folds the whole text and loses where each word came from. The query
# language needs more: the offset of every word in the original text (to highlight
# what matched), its original spelling (for exact-case terms) and a folding that is
# stable when applied twice (a printed query must parse back to itself). Hence a
# per-character folding table and a tokeniser that keeps offsets.

_TOKEN = re.compile(r"(?:(?<!\w)[#@])?\w+(?:[-']\w+)*", re.UNICODE)
# In query terms ``*`` and ``?`` are wildcards and belong to the word.
_WILDCARD_TOKEN = re.compile(r"(?:(?<![\w*?])[#@])?[\w*?]+(?:[-'][\w*?]+)*", re.UNICODE)
# Applied to folded (lower-case) text, at the start of each hyphen-separated part.
_ELISION_AT = re.compile(r"(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)'")


class Token(NamedTuple):
    """A folded word and its ``[start, end)`` offsets in the text it was read from."""

    text: str
    start: int
    end: int


class _FoldTable(dict[int, str]):
    """``str.translate`` table folding one character at a time, filled on demand.

    Folding is iterated to a fixed point so that folding twice changes nothing.
    """

    def __init__(self) -> None:
        super().__init__()
        self.not_one_to_one: set[str] = set()

    def __missing__(self, key: int) -> str:
        char = chr(key)
        folded = _fold_once(char)
        while True:
            again = "".join(_fold_once(c) for c in folded)
            if again == folded:
                break
            folded = again
        if len(folded) != 1:
            self.not_one_to_one.add(char)
        self[key] = folded
        return folded


def _fold_once(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")


_FOLD_TABLE = _FoldTable()


def match_fold(text: str) -> str:
    """Case- and accent-insensitive form used by the query language (per character).

    Like :func:`fold`, but applied character by character and idempotent:
    ``match_fold(match_fold(s)) == match_fold(s)``.
    """
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD_TABLE)


def word_tokens(text: str, *, wildcards: bool = False) -> list[Token]:
    """Folded whole words of ``text`` with their offsets in ``text``.

    The rules of :func:`words`, plus: hyphenated words are split into their parts
    (``wi-fi`` gives ``wi`` and ``fi``), every French elision is removed
    (``l'hôtel`` gives ``hotel``, offsets pointing at ``hôtel``), and an English
    possessive ``'s`` is dropped (``Nuvia's`` gives ``nuvia``). Hashtags and @handles
    stay whole, but not inside a word (``a@b.fr`` has no handle). With
    ``wildcards``, ``*`` and ``?`` count as word characters (for query terms).
    """
    folded = match_fold(text)
    if len(folded) == len(text) and (
        text.isascii() or _FOLD_TABLE.not_one_to_one.isdisjoint(text)
    ):
        to_raw: list[int] | None = None
    else:
        to_raw = _raw_offsets(text)
    pattern = _WILDCARD_TOKEN if wildcards else _TOKEN
    out: list[Token] = []
    for match in pattern.finditer(folded):
        word = match.group()
        start, end = match.span()
        if "-" not in word and "'" not in word:
            parts: list[tuple[int, int]] = [(start, end)]
        else:
            parts = _split_word(folded, start, end)
        for part_start, part_end in parts:
            if to_raw is None:
                out.append(Token(folded[part_start:part_end], part_start, part_end))
            else:
                # max(): one raw character may fold into several (``½`` gives
                # ``1⁄2``); each part still points at a non-empty raw slice.
                raw_end = max(to_raw[part_end], to_raw[part_end - 1] + 1)
                out.append(Token(folded[part_start:part_end], to_raw[part_start], raw_end))
    return out


def match_words(text: str) -> list[str]:
    """``[t.text for t in word_tokens(text)]``, without offsets: the fast path."""
    out: list[str] = []
    for word in _TOKEN.findall(match_fold(text)):
        if "-" not in word and "'" not in word:
            out.append(word)
        else:
            out.extend(word[s:e] for s, e in _split_word(word, 0, len(word)))
    return out


def _split_word(folded: str, start: int, end: int) -> list[tuple[int, int]]:
    """Hyphen-separated parts of one word, with elisions and possessives removed."""
    parts: list[tuple[int, int]] = []
    part_start = start
    while part_start <= end:
        cut = folded.find("-", part_start, end)
        if cut < 0:
            cut = end
        s, e = part_start, cut
        part_start = cut + 1
        while True:
            elided = _ELISION_AT.match(folded, s, e)
            if elided is not None and elided.end() < e:
                s = elided.end()
            elif e - s > 2 and folded.startswith("'s", e - 2):
                e -= 2
            else:
                break
        if s < e:
            parts.append((s, e))
    return parts


def _raw_offsets(text: str) -> list[int]:
    """For each index of ``match_fold(text)`` (and its end), the index in ``text``."""
    offsets: list[int] = []
    for index, char in enumerate(text):
        offsets.extend([index] * len(_FOLD_TABLE[ord(char)]))
    offsets.append(len(text))
    return offsets
