"""Duplicate and near-duplicate mentions: exact keys, MinHash signatures, stories.

Two levels, documented in ``docs/stories.md``:

* **Copies** (exact duplicates in one source) share a key: the canonical URL
  (:func:`canonical_url`, tracking parameters removed) or the content hash of the
  folded words (:func:`veilleur.analysis.text.content_hash`).
* **Stories** group near-duplicates across sources and authors: retweets, syndicated
  articles, copy-paste campaigns. Each text is reduced to its *story words*
  (:func:`story_words`: retweet prefixes, leading @mentions, URLs and boilerplate
  removed), cut into word shingles, and summarised by a MinHash signature; a
  :class:`~veilleur.analysis.story_index.StoryIndex` finds, among the signatures of a
  time window, the most similar one above the Jaccard threshold.

The parameters in :data:`DEFAULT_PARAMS` were chosen by ``benchmarks/dedup_eval.py``
on real tweets; the figures are in ``docs/stories.md``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from veilleur.analysis.minhash import MinHasher, Signature
from veilleur.analysis.text import content_hash, fold, words

__all__ = [
    "DEFAULT_PARAMS",
    "DedupParams",
    "canonical_url",
    "content_hash",
    "fast_words",
    "shingles",
    "story_text",
    "story_words",
]

MAX_URL_CHARS = 2048

# --- canonical URLs ------------------------------------------------------------------------

# Parameters that only say where a click came from. Generic names (``ref``, ``s``,
# ``source``) are kept: on some sites they select the content.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "ttclid", "li_fat_id", "mc_cid", "mc_eid", "igshid", "igsh", "ref_src", "ref_url",
        "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id",
        "wickedid", "s_cid", "ocid", "xtor", "at_medium", "at_campaign", "at_platform",
        "cmpid", "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$")
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
# Characters a path may hold unescaped (RFC 3986 pchar and "/"), plus "%" so that
# existing escapes are kept rather than escaped twice.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


def canonical_url(url: str) -> str:
    """The URL as a duplicate key, or ``""`` when it is not a usable http(s) URL.

    Lower-cases scheme and host, drops credentials, default ports, the fragment
    (except ``#!`` routes, which name content) and tracking parameters, sorts the
    remaining query parameters, normalises escapes and removes trailing slashes.
    Never raises, whatever the input.
    """
    try:
        return _canonical(url)
    except (ValueError, UnicodeError):
        return ""


def _canonical(url: str) -> str:
    url = url.strip()
    if not url or len(url) > MAX_URL_CHARS or _BAD_CHARS.search(url):
        return ""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return ""
    host = (parts.hostname or "").rstrip(".")
    if host and not host.isascii():
        host = host.encode("idna").decode("ascii")
    if ":" in host:
        host = f"[{host}]"  # hostname strips an IPv6 literal's brackets
    if not _HOST.match(host):
        return ""
    port = parts.port  # raises ValueError when out of range: caught above
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = quote(parts.path, safe=_PATH_SAFE)
    if "%" in path:
        path = _ESCAPE.sub(lambda m: m.group(0).upper(), path)
    path = path.rstrip("/") or "/"
    query = ""
    if parts.query:
        pairs = [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True, max_num_fields=256)
            if not _is_tracking(key)
        ]
        query = urlencode(sorted(pairs), quote_via=quote)
    fragment = parts.fragment if parts.fragment.startswith("!") else ""
    fragment = quote(fragment, safe=_PATH_SAFE)
    result = urlunsplit((scheme, netloc, path, query, fragment))
    return result if len(result) <= MAX_URL_CHARS else ""


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


# --- story words and shingles --------------------------------------------------------------

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# "RT @user:", "MT @user", and the old quote style '"@user: ...' : what follows is
# the text that spreads; a comment before the marker is a reaction to it.
_RETWEET = re.compile(
    r"\b[RM]T\s*:?\s*(?P<handle>@\w+)\s*:?|[\"“](?P<qhandle>@\w+):", re.IGNORECASE
)
_CLOSING_QUOTE = re.compile(r"[\"”]")
_LEADING_HANDLES = re.compile(r"^(?:[.\s]*@\w+[\s,:;]*)+")
_TRAILING_VIA = re.compile(r"\s+(?:via|by|par)\s+@\w+[\s.]*$", re.IGNORECASE)
# Lines that syndication and feeds add around the same article.
_BOILERPLATE_LINE = re.compile(
    r"^\W*(?:read more|continue reading|click here|lire la suite|en savoir plus|"
    r"cliquez ici|lire aussi|voir aussi|à lire aussi|related:|source\s*:|"
    r"all rights reserved|tous droits réservés|copyright|©|share this|partager|"
    r"subscribe|abonnez-vous|the post .+ appeared first on|cet article .+ est apparu)",
    re.IGNORECASE,
)
_TRAILING_BOILERPLATE = re.compile(
    r"(?:\s*(?:\[(?:…|\.\.\.)\]|…|\.\.\.|read more|lire la suite|continue reading))+\W*$",
    re.IGNORECASE,
)
_TRAILING_MARKERS = ("…", "...", "read more", "lire la suite", "continue reading")
_AGENCY = re.compile(r"\((?:afp|reuters|ap|belga|ats|upi)\)", re.IGNORECASE)


def story_text(text: str, title: str = "") -> str:
    """The part of a mention that spreads: what near-duplicate detection compares.

    For a retweet or quote ("Wow. RT @acme: Our fleet is new", '"@acme: ..." lol') it is
    the quoted author and text, "@acme Our fleet is new": reactions around the quote
    do not make another story, and the quoted author tells apart two short tweets
    with the same words.
    """
    # The guards only skip patterns that cannot match: every mention passes here.
    if "@" in text:
        markers = list(_RETWEET.finditer(text))
        if markers:
            marker = markers[-1]
            quoted = text[marker.end() :]
            if marker.group(0)[0] in "\"“":
                # Old-style quote: the quoted tweet ends at the closing quotation mark.
                quoted = _CLOSING_QUOTE.split(quoted, maxsplit=1)[0]
            quoted = _LEADING_HANDLES.sub("", _URL.sub(" ", quoted))
            if words(quoted):
                text = f"{marker.group('handle') or marker.group('qhandle')} {quoted}"
        else:
            text = _LEADING_HANDLES.sub("", _URL.sub(" ", text))
    if "://" in text or "www." in text.lower():
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _TRAILING_VIA.sub("", text)
    if "(" in text:
        text = _AGENCY.sub(" ", text)
    if "\n" in text or _BOILERPLATE_LINE.match(text.strip()):
        lines = [line for line in text.split("\n") if not _BOILERPLATE_LINE.match(line.strip())]
        text = "\n".join(lines)
    tail = text[-40:].lower()
    if any(marker in tail for marker in _TRAILING_MARKERS):
        text = _TRAILING_BOILERPLATE.sub("", text)
    # A title the text already contains (a feed item's first line) would count twice.
    if title.strip() and fold(title).strip() not in fold(text):
        text = f"{title}\n{text}"
    return text


def story_words(text: str, title: str = "") -> list[str]:
    """Folded words of :func:`story_text` (accents and case removed, elision split)."""
    return fast_words(story_text(text, title))


class _FoldTable(dict[int, "str | None"]):
    """``str.translate`` table dropping combining marks, filled on first sight of a code
    point: NFKD then this table is :func:`~veilleur.analysis.text.fold`, at C speed."""

    def __missing__(self, key: int) -> str | None:
        char = chr(key)
        value = None if unicodedata.combining(char) else char
        self[key] = value
        return value


_FOLD = _FoldTable({ord("’"): "'"})
# A word with a French elision in front: the elision is matched and left out.
_TOKEN = re.compile(r"(?:(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)')?([#@]?\w+(?:[-']\w+)*)")


def fast_words(text: str) -> list[str]:
    """The same words as :func:`veilleur.analysis.text.words`, several times faster.

    Every mention is signed while its batch is stored: this is on the ingest path.
    """
    folded = text.casefold()
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded).translate(_FOLD)
    return _TOKEN.findall(folded)


def shingles(tokens: list[str], size: int) -> set[str]:
    """The set of ``size``-word shingles; a text shorter than ``size`` is one shingle."""
    if size < 1:
        raise ValueError("shingle size must be positive")
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


# --- parameters and signatures -------------------------------------------------------------


@dataclass(frozen=True)
class DedupParams:
    """How texts are compared; changing these makes stored signatures incomparable.

    ``min_words``: shorter texts ("@united thanks!") get no signature and never join a
    story: two people saying "thank you" is not a story. ``bands * rows`` must not
    exceed ``num_perm``. The defaults and why: ``docs/stories.md``.
    """

    shingle_size: int = 2
    num_perm: int = 64
    bands: int = 16
    rows: int = 4
    threshold: float = 0.6
    min_words: int = 5
    bucket_cap: int = 32
    anchored: bool = True
    hasher: MinHasher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.bands * self.rows > self.num_perm:
            raise ValueError("bands * rows must not exceed num_perm")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        object.__setattr__(self, "hasher", MinHasher(self.num_perm))

    def signature(self, text: str, title: str = "") -> Signature | None:
        """The MinHash of a mention's story words, or None when it is too short."""
        tokens = story_words(text, title)
        if len(tokens) < self.min_words:
            return None
        return self.hasher.signature(shingles(tokens, self.shingle_size))

    def signature_bytes(self, text: str, title: str = "") -> bytes | None:
        """:meth:`signature`, ready to store (``4 * num_perm`` bytes)."""
        signature = self.signature(text, title)
        return None if signature is None else self.hasher.to_bytes(signature)

    def signatures_bytes(self, texts: Iterable[tuple[str, str]]) -> list[bytes | None]:
        """:meth:`signature_bytes` of many ``(text, title)`` pairs, in one numpy pass."""
        sets: list[set[str]] = []
        for text, title in texts:
            tokens = story_words(text, title)
            sets.append(shingles(tokens, self.shingle_size) if len(tokens) >= self.min_words
                        else set())
        return [
            None if signature is None else self.hasher.to_bytes(signature)
            for signature in self.hasher.signatures(sets)
        ]


DEFAULT_PARAMS = DedupParams()
