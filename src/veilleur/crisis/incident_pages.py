"""What the incident page shows, gathered in a fixed number of queries.

The timeline describes each ``IncidentEvent`` in the reader's language (events store
values, not sentences); signals carry their explanation shaped by
``explanation_view.readable``; linked mentions are the newest few of the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from veilleur.accounts.models import Membership, User, Workspace
from veilleur.analysis.normalise import safe_url
from veilleur.crisis.alert_text import number, percent
from veilleur.crisis.explanation_view import Explanation, readable
from veilleur.crisis.models import (
    TRANSITIONS,
    Incident,
    IncidentEvent,
    IncidentState,
    Signal,
    SignalKind,
)
from veilleur.monitoring.models import Mention

TIMELINE_LIMIT = 200
SIGNALS_LIMIT = 50
MENTIONS_SHOWN = 20


def state_label(state: str) -> str:
    """The translated name of a state (the raw value if unknown: old or foreign data)."""
    return str(IncidentState(state).label) if state in IncidentState.values else state


def kind_label(kind: str) -> str:
    return str(SignalKind(kind).label) if kind in SignalKind.values else kind


def next_states(incident: Incident) -> list[tuple[str, str]]:
    """(value, label) of the states this incident may go to, in the lifecycle's order."""
    allowed = TRANSITIONS.get(incident.state, frozenset())
    return [(value, str(label)) for value, label in IncidentState.choices if value in allowed]


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the timeline: what happened, in words, by whom and when."""

    pk: int
    at: datetime
    kind: str
    actor: str  # a username; "" when Veilleur itself did it (a detector, the scheduler)
    what: str
    note: str
    signal_id: int | None


def _describe(event: IncidentEvent) -> str:
    values = {"from": event.from_value, "to": event.to_value}
    if event.kind == IncidentEvent.Kind.STATE:
        if not event.from_value:
            return _("Incident opened")
        return _("State changed from “%(from)s” to “%(to)s”") % {
            "from": state_label(event.from_value), "to": state_label(event.to_value)}
    if event.kind == IncidentEvent.Kind.SIGNAL:
        return _("Signal: %(kind)s") % {"kind": kind_label(event.to_value)}
    if event.kind == IncidentEvent.Kind.NOTE:
        if event.signal_id is not None and event.signal is not None:
            return _("Signal “%(kind)s” marked as a false alarm") % {
                "kind": kind_label(event.signal.kind)}
        return _("Note")
    if event.kind == IncidentEvent.Kind.OWNER:
        if not event.to_value:
            return _("Owner removed (was %(from)s)") % values
        if not event.from_value:
            return _("Assigned to %(to)s") % values
        return _("Owner changed from %(from)s to %(to)s") % values
    if event.kind == IncidentEvent.Kind.SEVERITY:
        return _("Severity changed from %(from)s to %(to)s") % values
    return event.kind


def timeline(incident: Incident, limit: int = TIMELINE_LIMIT) -> tuple[list[TimelineEntry], int]:
    """The newest ``limit`` events, oldest first, and how many older ones are left out."""
    events = list(incident.events.select_related("actor", "signal")
                  .order_by("-at", "-pk")[: limit + 1])
    hidden = 0
    if len(events) > limit:
        hidden = incident.events.count() - limit
        events = events[:limit]
    entries = []
    for event in reversed(events):
        # A false-alarm note stores a sentence in its author's language: say it in ours.
        false_alarm = event.kind == IncidentEvent.Kind.NOTE and event.signal_id is not None
        entries.append(TimelineEntry(
            pk=event.pk, at=event.at, kind=event.kind,
            actor=event.actor.get_username() if event.actor else "",
            what=_describe(event), note="" if false_alarm else event.note,
            signal_id=event.signal_id,
        ))
    return entries, hidden


@dataclass(frozen=True)
class SignalView:
    signal: Signal
    explanation: Explanation

    @property
    def label(self) -> str:
        return kind_label(self.signal.kind)

    @property
    def figures(self) -> str:
        """What it saw against what it expected, in the reader's language and number format."""
        return _("%(observed)s observed, %(expected)s expected (confidence %(confidence)s %%)") % {
            "observed": number(self.signal.observed), "expected": number(self.signal.expected),
            "confidence": percent(self.signal.confidence)}


def signals_of(incident: Incident, limit: int = SIGNALS_LIMIT) -> tuple[list[SignalView], int]:
    """The newest signals with their readable explanation, and how many there are in all."""
    signals = list(incident.signals.select_related("false_alarm_by")
                   .order_by("-window_end", "-pk")[: limit + 1])
    total = len(signals) if len(signals) <= limit else incident.signals.count()
    return [SignalView(s, readable(s.explanation)) for s in signals[:limit]], total


def linked_mentions(incident: Incident, limit: int = MENTIONS_SHOWN) -> list[Mention]:
    """The newest evidence mentions, ready for ``monitoring/_mention.html``."""
    mentions = list(incident.mentions.select_related("source", "author")
                    .prefetch_related("watches").order_by("-published_at", "-pk")[:limit])
    for mention in mentions:
        mention.link = safe_url(mention.url)  # type: ignore[attr-defined]
    return mentions


def members_of(workspace: Workspace) -> list[User]:
    """The people an incident can be assigned to: the workspace's members, by name."""
    ids = Membership.objects.filter(workspace=workspace).values("user_id")
    return list(User.objects.filter(pk__in=ids).order_by("username"))
