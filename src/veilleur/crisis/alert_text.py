"""The words of an alert: a title and a plain-text body a person understands in ten seconds.

Everything taken from a signal's explanation (terms, authors, mention texts, URLs) was
written by strangers: it goes through :func:`clean` (control and format characters
removed, lengths bounded, mass mentions such as ``@everyone`` defused) and is sent as
plain text, never as HTML or Markdown. Rendering happens in the destination's language
under ``translation.override``; times are shown in ``settings.TIME_ZONE``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _

from veilleur.crisis.models import Incident, IncidentState, Signal, SignalKind
from veilleur.monitoring.models import Sentiment

TITLE_LIMIT = 200
BODY_LIMIT = 4000
EXAMPLE_LIMIT = 280
LABEL_LIMIT = 80
URL_LIMIT = 300
LIST_LIMIT = 5
EXAMPLES = 3

# Categories removed from untrusted text: controls (Cc), format characters such as
# bidi overrides and zero-width joiners (Cf), surrogates, private use and unassigned.
_DROPPED = {"Cc", "Cf", "Cs", "Co", "Cn"}
# A stranger's "@everyone" must not ping a whole Slack, Discord or Matrix room.
_MASS_MENTION = re.compile(r"([@!])(everyone|here|channel|all|room)\b", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class AlertText:
    """A rendered message: what Apprise receives as title and body (plain text)."""

    title: str
    body: str


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def clean(text: object, limit: int) -> str:
    """One line of untrusted text, safe to send: no control characters, at most ``limit``."""
    value = "" if text is None else str(text)
    value = "".join(
        " " if ch in "\t\r\n\v\f" else ch
        for ch in value
        if ch in "\t\r\n\v\f" or unicodedata.category(ch) not in _DROPPED
    )
    value = _SPACES.sub(" ", value).strip()
    value = _MASS_MENTION.sub("\\1\u2060\\2", value)  # word joiner: shown, but not a mention
    return _shorten(value, limit)


def local_zone() -> ZoneInfo:
    """The workspace's time zone (one per installation: ``settings.TIME_ZONE``)."""
    return ZoneInfo(settings.TIME_ZONE)


def number(value: float) -> str:
    """A figure in the active language: ``6.2`` in English, ``6,2`` in French."""
    if float(value).is_integer():
        return formats.number_format(int(value), use_l10n=True)
    return formats.number_format(round(value, 1), decimal_pos=1, use_l10n=True)


def percent(share: float) -> str:
    """A share in [0, 1] as a percentage; 0.9996 reads 99.9, never a rounded-up 100."""
    value = max(0.0, min(1.0, share)) * 100
    if 99 <= value < 100:
        return formats.number_format(min(value, 99.9), decimal_pos=1, use_l10n=True)
    return formats.number_format(round(value), use_l10n=True)


def incident_link(incident: Incident) -> str:
    """Absolute link when ``settings.BASE_URL`` is set, else the path within the site."""
    try:
        path = reverse("incident", kwargs={"pk": incident.pk})
    except NoReverseMatch:  # the incident pages may not be routed yet
        path = f"/incidents/{incident.pk}/"
    base = str(getattr(settings, "BASE_URL", "") or "").rstrip("/")
    return f"{base}{path}"


def kind_label(kind: str) -> str:
    """The translated name of a signal kind (the raw value for an unknown kind)."""
    try:
        return str(SignalKind(kind).label)
    except ValueError:
        return clean(kind, LABEL_LIMIT)


def state_label(state: str) -> str:
    """The translated name of an incident state."""
    try:
        return str(IncidentState(state).label)
    except ValueError:
        return clean(state, LABEL_LIMIT)


def _label_and_figure(item: object) -> tuple[str, float | None]:
    """Explanation list items come as ``"x"``, ``["x", 3]`` or ``{"term": "x", "count": 3}``."""
    if isinstance(item, Mapping):
        label = next((item[k] for k in ("label", "term", "tag", "hashtag", "name", "source",
                                        "domain", "handle", "author", "display_name")
                      if item.get(k)), "")
        figure = next((item[k] for k in ("count", "mentions", "n", "followers", "reach")
                       if isinstance(item.get(k), int | float)), None)
        return clean(label, LABEL_LIMIT), figure
    if isinstance(item, list | tuple) and item:
        figure = item[1] if len(item) > 1 and isinstance(item[1], int | float) else None
        return clean(item[0], LABEL_LIMIT), figure
    return clean(item, LABEL_LIMIT), None


def _listing(items: object, prefix: str = "") -> str:
    """``boycott (12), arnaque (8)``: the first few items of an explanation list."""
    if not isinstance(items, list | tuple):
        return ""
    parts = []
    for item in items[:LIST_LIMIT]:
        label, figure = _label_and_figure(item)
        if not label:
            continue
        if prefix and not label.startswith(prefix):
            label = prefix + label
        parts.append(f"{label} ({number(figure)})" if figure is not None else label)
    return ", ".join(parts)


def _sentiment(split: object) -> str:
    """``Negative 70 % · Neutral 25 % · Positive 5 %`` from counts or shares."""
    if not isinstance(split, Mapping):
        return ""
    values = {s.value: float(split.get(s.value) or 0) for s in Sentiment
              if isinstance(split.get(s.value) or 0, int | float)}
    total = sum(values.values())
    if total <= 0:
        return ""
    return " · ".join(
        _("%(label)s %(percent)s%%") % {"label": Sentiment(k).label,
                                          "percent": percent(v / total)}
        for k, v in values.items()
    )


def _safe_url(url: object) -> str:
    value = clean(url, URL_LIMIT + 1)
    if len(value) > URL_LIMIT or not re.match(r"^https?://\S+$", value, re.IGNORECASE):
        return ""  # javascript:, data:, over-long or broken links are left out
    return value


def _examples(examples: object) -> list[str]:
    if not isinstance(examples, list | tuple):
        return []
    lines: list[str] = []
    for example in examples:
        if len(lines) >= EXAMPLES:
            break
        if isinstance(example, Mapping):
            text, author, url = (example.get("text"), example.get("author"),
                                 example.get("url"))
        else:
            text, author, url = example, None, None
        text = clean(text, EXAMPLE_LIMIT)
        if not text:
            continue
        line = _("%(number)s. “%(text)s”") % {"number": len(lines) + 1, "text": text}
        author = clean(author, LABEL_LIMIT)
        if author:
            line += f" — {author}"
        url = _safe_url(url)
        if url:
            line += f"\n   {url}"
        lines.append(line)
    return lines


def _explanation_lines(explanation: Mapping[str, Any]) -> list[str]:
    rows = [
        (_("Top terms: %(list)s"), _listing(explanation.get("top_terms"))),
        (_("Hashtags: %(list)s"), _listing(explanation.get("hashtags"), prefix="#")),
        (_("Top sources: %(list)s"), _listing(explanation.get("sources"))),
        (_("Top authors: %(list)s"), _listing(explanation.get("authors"))),
        (_("Sentiment: %(list)s"), _sentiment(explanation.get("sentiment"))),
    ]
    return [template % {"list": value} for template, value in rows if value]


def _bounded(lines: Iterable[str]) -> str:
    return _shorten("\n".join(lines), BODY_LIMIT)


def _language(language: str) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def render_alert(incident: Incident, signal: Signal, language: str) -> AlertText:
    """Title and plain-text body of one alert, in ``language`` (fr or en)."""
    with translation.override(_language(language)):
        zone = local_zone()
        values = {
            "severity": incident.severity,
            "kind": kind_label(signal.kind),
            "watch": clean(incident.watch.name, LABEL_LIMIT),
            "observed": number(signal.observed),
            "expected": number(signal.expected),
            "confidence": percent(signal.confidence),
            "state": state_label(incident.state),
            "start": formats.time_format(signal.window_start.astimezone(zone), "H:i"),
            "end": formats.time_format(signal.window_end.astimezone(zone), "H:i"),
            "zone": zone.key,
        }
        # The parts are clean already; cleaning again would eat the French no-break spaces.
        title = _shorten(_("Severity %(severity)s · %(kind)s · %(watch)s") % values,
                         TITLE_LIMIT)
        lines = [
            _("%(kind)s on “%(watch)s”: %(observed)s observed, %(expected)s expected "
              "(confidence %(confidence)s%%).") % values,
            _("Severity %(severity)s (1 = most severe, 4 = least) · incident %(state)s · "
              "window %(start)s–%(end)s (%(zone)s)") % values,
            _("Incident: %(title)s") % {"title": clean(incident.display_title, TITLE_LIMIT)},
        ]
        explanation = signal.explanation if isinstance(signal.explanation, Mapping) else {}
        details = _explanation_lines(explanation)
        if details:
            lines += ["", *details]
        examples = _examples(explanation.get("examples"))
        if examples:
            lines += ["", _("Example mentions:"), *examples]
        lines += ["", _("Open the incident: %(link)s") % {"link": incident_link(incident)}]
        return AlertText(title=title, body=_bounded(lines))


@dataclass
class DigestEntry:
    """One incident of a digest with the signals of the period that belong to it."""

    incident: Incident | None
    signals: list[Signal]


def _when(value: datetime) -> str:
    return formats.date_format(value.astimezone(local_zone()), "SHORT_DATETIME_FORMAT")


def render_digest(workspace_name: str, frequency: str, entries: list[DigestEntry],
                  start: datetime, end: datetime, language: str) -> AlertText:
    """One digest message (``daily`` or ``weekly``): each incident with its signals, then
    the signals that belong to no incident."""
    with translation.override(_language(language)):
        name = _("Weekly digest") if frequency == "weekly" else _("Daily digest")
        incidents = [e for e in entries if e.incident is not None]
        signal_count = sum(len(e.signals) for e in entries)
        values = {"digest": name, "workspace": clean(workspace_name, LABEL_LIMIT),
                  "incidents": len(incidents), "signals": signal_count,
                  "start": _when(start), "end": _when(end)}
        title = _shorten(_("%(digest)s · %(workspace)s: %(incidents)s incident(s), "
                           "%(signals)s signal(s)") % values, TITLE_LIMIT)
        lines = [_("From %(start)s to %(end)s.") % values]
        for entry in entries:
            lines.append("")
            if entry.incident is not None:
                incident = entry.incident
                lines.append(_("Severity %(severity)s · %(state)s · %(title)s (%(watch)s)") % {
                    "severity": incident.severity, "state": state_label(incident.state),
                    "title": clean(incident.display_title, TITLE_LIMIT),
                    "watch": clean(incident.watch.name, LABEL_LIMIT)})
                lines.append("  " + _("Opened %(when)s: %(link)s") % {
                    "when": _when(incident.opened_at), "link": incident_link(incident)})
            else:
                lines.append(_("Signals without an incident"))
            for signal in entry.signals[:10]:
                lines.append("  - " + _("%(when)s %(kind)s on “%(watch)s”: %(observed)s "
                                        "observed, %(expected)s expected") % {
                    "when": _when(signal.window_end), "kind": kind_label(signal.kind),
                    "watch": clean(signal.watch.name, LABEL_LIMIT),
                    "observed": number(signal.observed), "expected": number(signal.expected)})
            if len(entry.signals) > 10:
                lines.append("  " + _("… and %(count)s more") % {
                    "count": len(entry.signals) - 10})
        return AlertText(title=title, body=_bounded(lines))
