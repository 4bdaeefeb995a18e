"""Timestamps as vendor exports write them, read into aware datetimes.

The rules, in order (documented in docs/import.md):

1. Digits only: epoch time. 9 to 11 digits are seconds, 12 to 14 milliseconds
   (Talkwalker's ``published``), 15 to 17 microseconds.
2. ISO 8601 and its near relatives: ``2024-03-05T14:02:11Z``,
   ``2024-03-05 14:02:11.0`` (Brandwatch), ``2024-03-05T14:02:11.123+0100``.
3. Numeric day/month/year: ``05/03/2024 14:02``, ``5.3.2024``, ``05-03-24 2:02 PM``.
   A part above 12 settles the order for that value. When both parts are 12 or
   below the value is ambiguous and follows the file's ``date_order``: ``dmy``
   or ``mdy`` when configured, else the order that the file's own unambiguous
   values show (``infer_date_order``), else ``dmy`` (day first, as written in
   France and most of Europe).
4. Month names in English or French: ``5 Mar 2024``, ``March 5, 2024 14:02``,
   ``5 mars 2024``.

A value with an offset or ``Z`` keeps it; a value without one is read in the
configured time zone (UTC unless the import says otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DATE_ORDERS = ("dmy", "mdy")
DEFAULT_DATE_ORDER = "dmy"
EPOCH_YEARS = (1995, 2100)

_EPOCH = re.compile(r"^-?\d{9,17}(?:\.\d+)?$")
_NUMERIC = re.compile(
    r"^(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<y>\d{4}|\d{2})"
    r"(?:[ T,]+(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?$"
)
_NAMED = re.compile(
    r"^(?:(?P<d1>\d{1,2})(?:er)?\s+(?P<m1>[^\W\d_]+)\.?,?\s+(?P<y1>\d{4})"
    r"|(?P<m2>[^\W\d_]+)\.?\s+(?P<d2>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y2>\d{4}))"
    r"(?:[ T,]+(?:at\s+|à\s+)?(?P<time>\d{1,2}[:h]\d{2}(?::\d{2})?)\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?$"
)
_MONTHS = {
    # English
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
    "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11,
    "november": 11, "dec": 12, "december": 12,
    # French (with and without accents, full and abbreviated)
    "janv": 1, "janvier": 1, "fevr": 2, "févr": 2, "fevrier": 2, "février": 2, "fev": 2,
    "mars": 3, "avr": 4, "avril": 4, "mai": 5, "juin": 6, "juil": 7, "juillet": 7,
    "aout": 8, "août": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "decembre": 12, "décembre": 12, "déc": 12,
}


class BadTimestamp(ValueError):
    """The value is not a timestamp any rule above understands."""


def get_zone(name: str) -> tzinfo:
    """The time zone called ``name`` (IANA name, or UTC); ValueError when unknown."""
    if not name or name.upper() in {"UTC", "Z", "GMT"}:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name like Europe/Paris"
        ) from None


def infer_date_order(values: Iterable[str]) -> str | None:
    """``dmy`` or ``mdy`` when some numeric date in ``values`` settles it, else None.

    The first value whose first or second part is above 12 decides; a file that
    contradicts itself (both kinds present) decides nothing.
    """
    seen: set[str] = set()
    for value in values:
        match = _NUMERIC.match(value.strip())
        if not match:
            continue
        a, b = int(match["a"]), int(match["b"])
        if a > 12 >= b:
            seen.add("dmy")
        elif b > 12 >= a:
            seen.add("mdy")
    return seen.pop() if len(seen) == 1 else None


def parse_timestamp(
    value: str, zone: tzinfo = UTC, date_order: str = DEFAULT_DATE_ORDER
) -> datetime:
    """Read ``value`` by the module's rules; raise BadTimestamp saying why not."""
    text = value.strip()
    if not text:
        raise BadTimestamp("empty date")
    if _EPOCH.match(text):
        return _from_epoch(text)
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(text.replace(" UTC", "Z").replace(" GMT", "Z"))
    except ValueError:
        parsed = _numeric(text, date_order) or _named(text)
    if parsed is None:
        raise BadTimestamp(f"unrecognised date {text[:40]!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def _from_epoch(text: str) -> datetime:
    number = float(text)
    digits = len(text.split(".")[0].lstrip("-"))
    if digits >= 15:
        number /= 1_000_000
    elif digits >= 12:
        number /= 1000
    parsed: datetime | None
    try:
        parsed = datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        parsed = None
    # Social media did not exist before 1995; a number outside that range is an id
    # or a count in the wrong column, not a date.
    if parsed is None or not EPOCH_YEARS[0] <= parsed.year <= EPOCH_YEARS[1]:
        raise BadTimestamp(f"epoch time out of range {text[:40]!r}")
    return parsed


def _numeric(text: str, date_order: str) -> datetime | None:
    match = _NUMERIC.match(text)
    if not match:
        return None
    a, b = int(match["a"]), int(match["b"])
    if a > 12:
        day, month = a, b
    elif b > 12 or date_order == "mdy":
        day, month = b, a
    else:
        day, month = a, b
    year = int(match["y"])
    if year < 100:
        year += 2000 if year < 70 else 1900
    return _build(text, year, month, day, match["time"], match["ampm"], match["tz"])


def _named(text: str) -> datetime | None:
    match = _NAMED.match(text)
    if not match:
        return None
    name = (match["m1"] or match["m2"]).lower()
    month = _MONTHS.get(name) or _MONTHS.get(name[:3])
    if month is None:
        return None
    day = int(match["d1"] or match["d2"])
    year = int(match["y1"] or match["y2"])
    time = match["time"].replace("h", ":") if match["time"] else None
    return _build(text, year, month, day, time, match["ampm"], match["tz"])


def _build(
    text: str, year: int, month: int, day: int, time: str | None, ampm: str | None, tz: str | None
) -> datetime:
    hour = minute = second = micro = 0
    if time:
        parts = time.replace(",", ".").split(":")
        hour, minute = int(parts[0]), int(parts[1])
        if len(parts) > 2:
            sec, _, frac = parts[2].partition(".")
            second = int(sec)
            micro = int((frac + "000000")[:6]) if frac else 0
    if ampm:
        pm = ampm.lower().startswith("p")
        if hour > 12 or hour == 0:
            raise BadTimestamp(f"hour {hour} with AM/PM in {text[:40]!r}")
        hour = hour % 12 + (12 if pm else 0)
    try:
        parsed = datetime(year, month, day, hour, minute, second, micro)
    except ValueError as exc:
        raise BadTimestamp(f"impossible date {text[:40]!r}: {exc}") from None
    if tz and tz not in {"Z", "UTC", "GMT"}:
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return parsed.replace(tzinfo=timezone(sign * offset))
    if tz:
        return parsed.replace(tzinfo=UTC)
    return parsed


def parse_iso(value: object) -> datetime | None:
    """An ISO 8601 time from an API (``Z`` or an offset; naive means UTC), in UTC.

    None for anything else: a missing or malformed date is the caller's to handle
    (most connectors fall back to the fetch time through normalisation).
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
