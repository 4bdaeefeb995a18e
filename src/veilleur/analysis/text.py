"""Text normalisation for mentions: every mention is hostile, unbounded text."""

from __future__ import annotations

import hashlib
import re
import unicodedata

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
