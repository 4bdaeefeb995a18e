"""Column layouts of the social-listening vendors' exports, and user mappings.

Each vendor format maps Veilleur's fields to the vendor's column names, several
per field when the vendor renamed a column over time or offers a shorter
variant (the first non-empty one in a row wins). Header names are matched
case-insensitively, ignoring surrounding spaces.

Where the names come from:

* Brandwatch Consumer Research, "mentions" export (CSV/XLSX download). The fields
  are those of Brandwatch's "Mention Field Definitions" page
  (developers.brandwatch.com/docs/mention-metadata-field-definitions: author,
  fullname, fullText, snippet, pageType, resourceId, guid, date, title, url,
  domain, language, sentiment, impressions, reachEstimate...). The export writes
  them under their display names ("Account Type", "Author", "Full Text", "Page
  Type"...), the names Adverity's Brandwatch connector also documents
  (docs.adverity.com/reference/connectors/connector-brandwatch.htm). Exports made
  through the API keep the camelCase names, so those are accepted too. The
  downloaded file starts with several lines of report metadata before the header
  row; the reader finds the header by its column names.
* Talkwalker, results export. Columns are the document fields of Talkwalker's API
  documentation (developer.talkwalker.com/docs/talkwalker-documents: url,
  published as epoch milliseconds, title, content, content_snippet, lang,
  source_type, reach, external_id / external_author_id for X results,
  extra_author_attributes.*, source_extended_attributes.twitter_followers...),
  nested objects flattened with dots. Talkwalker documents ``url`` as the
  document's primary key, so it stands in for the id when no id column exists.
* Mention (mention.com), feed export. The API's mention object
  (dev.mention.com, "Fetch a mention": id, title, description, original_url,
  published_at, source_type, source_name, language_code, tone...) gives the
  field names; the CSV from the web app uses the display names ("Date", "Title",
  "Description", "URL", "Source type", "Author", "Language", "Reach",
  "Influence score", "Sentiment"). We could not find a published specification
  of the CSV header itself, so both spellings are accepted.

The fixtures in tests/fixtures/exports/ are synthetic files built on these layouts.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# The fields a column can be mapped to (RawItem's fields, lang standing for lang_hint).
FIELDS: tuple[str, ...] = (
    "external_id", "text", "title", "url", "published_at", "author_handle", "author_name",
    "author_followers", "author_verified", "lang", "reach", "platform",
)
MAX_MAPPING_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class VendorFormat:
    """One vendor's export layout: field -> candidate columns, and how to spot it."""

    name: str
    label: str
    columns: Mapping[str, tuple[str, ...]]
    # Columns that only this vendor's exports have: the auto-detection votes on them.
    signature: tuple[str, ...] = ()
    # How the vendor writes ambiguous numeric dates, when known ("dmy"/"mdy").
    date_order: str | None = None
    default_platform: str = ""
    notes: Sequence[str] = field(default_factory=tuple)


BRANDWATCH = VendorFormat(
    name="brandwatch",
    label="Brandwatch Consumer Research",
    columns={
        "external_id": ("Mention Id", "Resource Id", "Guid", "resourceId"),
        "text": ("Full Text", "Snippet", "fullText"),
        "title": ("Title",),
        "url": ("Url", "Original Url", "Expanded Url"),
        "published_at": ("Date",),
        "author_handle": ("Author",),
        "author_name": ("Full Name", "fullname"),
        "author_followers": ("Twitter Followers", "X Followers", "twitterFollowers"),
        "author_verified": ("Twitter Verified", "X Verified", "twitterVerified"),
        "lang": ("Language",),
        "reach": ("Reach (new)", "Reach", "Impressions", "reachEstimate"),
        "platform": ("Page Type", "pageType"),
    },
    signature=(
        "Query Id", "Query Name", "Full Text", "Page Type", "Resource Id", "Mention Id",
        "Full Name", "Twitter Followers", "Account Type", "Impact", "pageType", "fullText",
    ),
)

TALKWALKER = VendorFormat(
    name="talkwalker",
    label="Talkwalker",
    columns={
        "external_id": ("article_id", "external_id", "url"),
        "text": ("content", "content_snippet"),
        "title": ("title",),
        "url": ("url",),
        "published_at": ("published",),
        "author_handle": (
            "extra_author_attributes.short_name", "extra_author_attributes.id",
            "external_author_id", "extra_author_attributes.name",
        ),
        "author_name": ("extra_author_attributes.name",),
        "author_followers": (
            "source_extended_attributes.twitter_followers",
            "source_extended_attributes.instagram_followers",
            "source_extended_attributes.facebook_followers",
        ),
        "lang": ("lang",),
        "reach": ("reach",),
        "platform": ("source_type", "external_provider"),
    },
    signature=(
        "published", "content_snippet", "source_type", "post_type", "extra_author_attributes.name",
        "extra_source_attributes.name", "domain_url", "host_url", "root_url", "matched_profile",
        "fluency_level", "engagement",
    ),
)

MENTION = VendorFormat(
    name="mention",
    label="Mention (mention.com)",
    columns={
        "external_id": ("Mention Id", "Id", "unique_id"),
        "text": ("Description", "description_short"),
        "title": ("Title",),
        "url": ("URL", "Original URL", "original_url", "Clickable URL"),
        "published_at": ("Date", "Published at", "published_at"),
        "author_handle": ("Author username", "Username", "Author"),
        "author_name": ("Author", "Author name"),
        "author_followers": ("Author followers", "Followers"),
        "lang": ("Language", "language_code"),
        "reach": ("Reach",),
        "platform": ("Source type", "source_type", "Source"),
    },
    signature=(
        "Description", "Source type", "Influence score", "Source name", "Tone", "original_url",
        "description_short", "language_code", "source_name", "Clickable URL",
    ),
)

# For files from anywhere else: the usual English and French spellings.
GENERIC = VendorFormat(
    name="generic",
    label="generic",
    columns={
        "external_id": ("id", "external_id", "mention_id", "post_id", "identifiant"),
        "text": ("text", "content", "body", "message", "full_text", "snippet", "description",
                 "texte", "contenu"),
        "title": ("title", "headline", "titre"),
        "url": ("url", "link", "permalink", "lien"),
        "published_at": ("published_at", "date", "published", "created_at", "timestamp",
                         "datetime", "time", "date_publication"),
        "author_handle": ("author_handle", "handle", "username", "screen_name", "author",
                          "auteur"),
        "author_name": ("author_name", "name", "display_name", "full_name", "nom"),
        "author_followers": ("author_followers", "followers", "followers_count", "abonnes"),
        "author_verified": ("author_verified", "verified"),
        "lang": ("lang", "language", "langue"),
        "reach": ("reach", "audience", "impressions", "portee"),
        "platform": ("platform", "network", "source", "plateforme", "reseau"),
    },
)

VENDORS: dict[str, VendorFormat] = {v.name: v for v in (BRANDWATCH, TALKWALKER, MENTION)}


class MappingError(ValueError):
    """A user mapping (or mapping file) is unusable; the message says why."""


def header_key(name: str) -> str:
    """How header cells are compared: case-folded, trimmed, inner spaces collapsed."""
    return " ".join(name.replace("\ufeff", "").strip().strip('"').split()).casefold()


def detect_vendor(header: Sequence[str]) -> VendorFormat | None:
    """The vendor whose signature columns the header shows most, if clearly one."""
    keys = {header_key(cell) for cell in header}
    scores = []
    for vendor in VENDORS.values():
        score = sum(header_key(column) in keys for column in vendor.signature)
        if score >= 2 and resolve_columns(header, vendor.columns).get("text"):
            scores.append((score, vendor.name))
    if not scores:
        return None
    scores.sort(reverse=True)
    if len(scores) > 1 and scores[0][0] == scores[1][0]:
        return None  # a tie says the header is not clearly anyone's
    return VENDORS[scores[0][1]]


def resolve_columns(
    header: Sequence[str], columns: Mapping[str, Sequence[str]]
) -> dict[str, list[int]]:
    """field -> indexes of the header cells that can fill it, in priority order."""
    index: dict[str, int] = {}
    for position, cell in enumerate(header):
        index.setdefault(header_key(cell), position)
    resolved: dict[str, list[int]] = {}
    for name, candidates in columns.items():
        found = [index[header_key(c)] for c in candidates if header_key(c) in index]
        if found:
            resolved[name] = list(dict.fromkeys(found))
    return resolved


def clean_mapping(raw: object) -> dict[str, list[str]]:
    """Check a user mapping ``{field: column or [columns]}``; MappingError otherwise."""
    if isinstance(raw, Mapping) and isinstance(raw.get("mapping"), Mapping):
        raw = raw["mapping"]
    if not isinstance(raw, Mapping) or not raw:
        raise MappingError("a mapping is an object of field: column name(s)")
    out: dict[str, list[str]] = {}
    for key, value in raw.items():
        if key not in FIELDS:
            raise MappingError(f"unknown field {key!r} in the mapping; fields: {', '.join(FIELDS)}")
        columns = [value] if isinstance(value, str) else value
        if (not isinstance(columns, list) or not columns
                or not all(isinstance(c, str) and c.strip() and len(c) <= 200 for c in columns)):
            raise MappingError(f"field {key!r}: expected a column name or a list of them")
        out[key] = [c.strip() for c in columns[:10]]
    if "text" not in out and "title" not in out:
        raise MappingError("the mapping must name the text column (field 'text')")
    return out


def load_mapping_file(path: str | Path) -> dict[str, list[str]]:
    """Read a JSON or TOML mapping file (``{"text": "Body", ...}``) and check it."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise MappingError(f"cannot read mapping file {file}: {exc.strerror}") from None
    if len(data) > MAX_MAPPING_FILE_BYTES:
        raise MappingError(f"mapping file {file} is too large")
    try:
        text = data.decode("utf-8-sig")
        parsed: object = tomllib.loads(text) if file.suffix.lower() == ".toml" else json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MappingError(f"mapping file {file} is not valid JSON/TOML: {exc}") from None
    return clean_mapping(parsed)


# --- cell values -------------------------------------------------------------------

_PLATFORMS = (
    # (substring of the vendor's value, Veilleur platform); first match wins.
    ("twitter", "twitter"), ("tweet", "twitter"), ("facebook", "facebook"),
    ("instagram", "instagram"), ("youtube", "youtube"), ("tiktok", "tiktok"),
    ("linkedin", "linkedin"), ("reddit", "reddit"), ("tumblr", "tumblr"),
    ("bluesky", "bluesky"), ("mastodon", "mastodon"), ("threads", "threads"),
    ("review", "review"), ("news", "news"), ("press", "news"), ("blog", "blog"),
    ("forum", "forum"), ("messageboard", "forum"), ("podcast", "podcast"),
    ("video", "video"), ("web", "web"),
)
_SLUG = re.compile(r"[^a-z0-9_.-]+")


def normalise_platform(value: str) -> str:
    """A vendor's page/source type as a short platform name (``SOCIALMEDIA_TWITTER`` -> twitter)."""
    lowered = value.strip().casefold()
    if not lowered:
        return ""
    if lowered in {"x", "x.com", "x (twitter)"}:
        return "twitter"
    for needle, platform in _PLATFORMS:
        if needle in lowered:
            return platform
    return _SLUG.sub("_", lowered).strip("_")[:32]


_LANGUAGES = {
    "english": "en", "anglais": "en", "french": "fr", "français": "fr", "francais": "fr",
    "german": "de", "allemand": "de", "deutsch": "de", "spanish": "es", "espagnol": "es",
    "español": "es", "italian": "it", "italien": "it", "portuguese": "pt", "portugais": "pt",
    "dutch": "nl", "néerlandais": "nl", "arabic": "ar", "arabe": "ar",
}
_LANG_CODE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{2,8})*$")


def normalise_lang(value: str) -> str:
    """``fr``, ``fr-FR``, ``French`` or ``Français`` -> ``fr``; '' when unknown."""
    lowered = value.strip().casefold()
    if lowered in _LANGUAGES:
        return _LANGUAGES[lowered]
    match = _LANG_CODE.match(lowered)
    return match.group(1) if match else ""


_SUFFIX = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


def parse_count(value: str) -> int | None:
    """``1,234``, ``1 234``, ``1234.0`` or ``12.5K`` as an int; None when not a count."""
    text = value.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if not text or text in {"-", "N/A", "n/a", "null", "None"}:
        return None
    multiplier = 1
    if text[-1].lower() in _SUFFIX:
        multiplier = _SUFFIX[text[-1].lower()]
        text = text[:-1].replace(",", ".")
    elif re.fullmatch(r"\d{1,3}([,.]\d{3})+", text):
        text = text.replace(",", "").replace(".", "")  # 1,234 or 1.234: thousands
    else:
        text = text.replace(",", ".")
    try:
        number = float(text) * multiplier
    except ValueError:
        return None
    if number != number or number < 0:  # NaN or negative
        return None
    return int(min(number, 10**12))


def parse_bool(value: str) -> bool:
    """Vendor spellings of true: true, yes, 1, verified, vrai, oui."""
    return value.strip().casefold() in {"true", "yes", "y", "1", "verified", "vrai", "oui", "x"}
