"""Clean a connector's config against its declared fields.

Values come from JSON (the API), from a form, or from ``--set key=value`` on the
command line (always strings), so each type accepts its string spelling too. Errors
are ``ConfigInvalid`` naming the field, in the ``field: why`` form the UI and the CLI
show as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from veilleur.connectors.base import JSON, ConfigField, ConfigInvalid

MAX_TEXT = 2000
MAX_LINES = 100
_TRUE = {"1", "true", "yes", "on", "oui"}
_FALSE = {"0", "false", "no", "off", "non", ""}


def invalid(name: str, message: str, **values: object) -> ConfigInvalid:
    """``field: why``, the why in the active language (forms show it under the field;
    the command line runs in English)."""
    return ConfigInvalid(f"{name}: {message % values if values else message}")


def clean_url(name: str, value: str) -> str:
    """An absolute http(s) URL with a host; ConfigInvalid otherwise.

    Whether the host may be connected to is decided at fetch time, on the address
    actually reached (``netguard``), not here.
    """
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise invalid(name, _("expected an http:// or https:// address, got %(value)s"),
                       value=repr(value))
    if len(value) > MAX_TEXT:
        raise invalid(name, _("the address is longer than %(limit)s characters"), limit=MAX_TEXT)
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise invalid(name, _("the port of %(value)s is not a number"),
                       value=repr(value)) from None
    return value


def _clean_one(field: ConfigField, value: JSON) -> JSON:
    name = field.name
    if field.type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise invalid(name, _("expected true or false"))
    if field.type == "int":
        if isinstance(value, bool):
            raise invalid(name, _("expected a whole number"))
        try:
            return int(str(value).strip())
        except ValueError:
            raise invalid(name, _("expected a whole number, got %(value)s"),
                           value=repr(value)) from None
    if field.type == "lines":
        items: Sequence[JSON]
        if isinstance(value, str):
            items = value.splitlines()
        elif isinstance(value, list):
            items = value
        else:
            raise invalid(name, _("expected a list, one entry per line"))
        lines = [str(item).strip() for item in items if str(item).strip()]
        if len(lines) > MAX_LINES:
            raise invalid(name, _("at most %(limit)s entries"), limit=MAX_LINES)
        if any(len(line) > MAX_TEXT for line in lines):
            raise invalid(name, _("an entry is longer than %(limit)s characters"), limit=MAX_TEXT)
        return lines
    if not isinstance(value, str):
        raise invalid(name, _("expected text"))
    text = value.strip()
    limit = field.max_length or MAX_TEXT
    if len(text) > limit:
        raise invalid(name, _("longer than %(limit)s characters"), limit=limit)
    if field.type == "url" and text:
        return clean_url(name, text)
    if field.type == "choice":
        allowed = [key for key, _label in field.choices]
        if text not in allowed:
            raise invalid(name, _("expected one of %(allowed)s, got %(value)s"),
                           allowed=", ".join(allowed), value=repr(text))
    return text


def _empty(value: JSON) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or value == []


def clean_fields(fields: Sequence[ConfigField], config: Mapping[str, JSON]) -> dict[str, JSON]:
    """The config restricted to ``fields``, typed, with defaults; ConfigInvalid on error.

    Unknown keys are refused (a typo in ``--set`` should not pass silently).
    """
    known = {field.name for field in fields}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ConfigInvalid(
            f"{unknown[0]}: unknown setting; this kind takes {', '.join(sorted(known))}")
    clean: dict[str, JSON] = {}
    for field in fields:
        value = config.get(field.name)
        if _empty(value):
            if field.required:
                raise invalid(field.name, _("required"))
            if field.default is not None:
                clean[field.name] = field.default
            continue
        clean[field.name] = _clean_one(field, value)
    return clean


def bounded_int(config: Mapping[str, JSON], name: str, low: int, high: int) -> int:
    """``config[name]`` checked to lie in [low, high] (after ``clean_fields``)."""
    value = config.get(name)
    if not isinstance(value, int) or not low <= value <= high:
        raise invalid(name, _("expected a whole number from %(low)s to %(high)s"),
                       low=low, high=high)
    return value
