"""Signals open or update incidents; people move incidents through their states.

One ongoing (unresolved) incident per watch, enforced by a partial unique constraint:
a burst of signals about one event updates that incident instead of opening more.
Every change is an ``IncidentEvent`` (who, when, from, to): the timeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from veilleur.accounts.models import User
from veilleur.crisis.models import (
    TRANSITIONS,
    Incident,
    IncidentEvent,
    IncidentState,
    Signal,
    SignalKind,
)
from veilleur.monitoring.models import Mention, Watch


class TransitionRefused(ValueError):
    """The incident cannot go from its state to the one asked for."""


@dataclass(frozen=True)
class SignalData:
    """What a detector found, before it is stored."""

    kind: str
    window_start: datetime
    window_end: datetime
    observed: float
    expected: float
    confidence: float
    severity: int
    explanation: dict[str, Any]
    mention_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Recorded:
    signal: Signal
    incident: Incident
    opened: bool  # a new incident (else an ongoing one was updated)


def incident_title(watch: Watch, kind: str) -> str:
    """The title in the active language; pages and alerts compose it again in their
    reader's language from ``Incident.kind`` (``Incident.display_title``)."""
    return _("%(kind)s on %(watch)s") % {"kind": SignalKind(kind).label, "watch": watch.name}


def record_signal(watch: Watch, found: SignalData, now: datetime) -> Recorded | None:
    """Store a signal and attach it to the watch's ongoing incident (opening one if none).

    Returns None when this watch already has this kind of signal for this window (a
    detector run twice over the same data).
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                signal = Signal.objects.create(
                    workspace_id=watch.workspace_id, watch=watch, kind=found.kind,
                    window_start=found.window_start, window_end=found.window_end,
                    observed=found.observed, expected=found.expected,
                    confidence=found.confidence, severity=found.severity,
                    explanation=found.explanation, created_at=now,
                )
        except IntegrityError:
            return None
        incident, opened = _ongoing_incident(watch, found, now)
        signal.incident = incident
        signal.save(update_fields=["incident"])
        IncidentEvent.objects.create(incident=incident, at=now, kind=IncidentEvent.Kind.SIGNAL,
                                     signal=signal, to_value=found.kind)
        if not opened and found.severity < incident.severity:
            IncidentEvent.objects.create(
                incident=incident, at=now, kind=IncidentEvent.Kind.SEVERITY,
                from_value=str(incident.severity), to_value=str(found.severity),
            )
            incident.severity = found.severity
        incident.updated_at = now
        incident.save(update_fields=["severity", "updated_at"])
        _link_evidence(incident, found.mention_ids)
    return Recorded(signal=signal, incident=incident, opened=opened)


def _ongoing_incident(watch: Watch, found: SignalData, now: datetime) -> tuple[Incident, bool]:
    ongoing = (Incident.objects.select_for_update()
               .filter(watch=watch).exclude(state=IncidentState.RESOLVED).first())
    if ongoing is not None:
        return ongoing, False
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                workspace_id=watch.workspace_id, watch=watch, kind=found.kind,
                title=incident_title(watch, found.kind)[:200], severity=found.severity,
                opened_at=now, updated_at=now,
            )
    except IntegrityError:
        # Another worker opened it between our look and our insert: use theirs.
        return Incident.objects.filter(watch=watch).exclude(
            state=IncidentState.RESOLVED).get(), False
    IncidentEvent.objects.create(incident=incident, at=now, kind=IncidentEvent.Kind.STATE,
                                 to_value=IncidentState.OPEN)
    return incident, True


def _link_evidence(incident: Incident, mention_ids: Iterable[int]) -> None:
    ids = list(mention_ids)
    if not ids:
        return
    mentions = list(Mention.objects.filter(pk__in=ids, workspace_id=incident.workspace_id)
                    .only("pk", "story_id"))
    incident.mentions.add(*mentions)
    story_ids = {m.story_id for m in mentions if m.story_id}
    if story_ids:
        incident.stories.add(*story_ids)


def transition(
    incident: Incident, to_state: str, user: User | None, now: datetime, note: str = ""
) -> IncidentEvent:
    """Move an incident to ``to_state`` if the transition table allows it."""
    if to_state not in TRANSITIONS.get(incident.state, frozenset()):
        raise TransitionRefused(
            _("An incident cannot go from “%(from)s” to “%(to)s”.")
            % {"from": IncidentState(incident.state).label,
               "to": IncidentState(to_state).label if to_state in IncidentState.values
               else to_state}
        )
    with transaction.atomic():
        event = IncidentEvent.objects.create(
            incident=incident, at=now, kind=IncidentEvent.Kind.STATE, actor=user,
            from_value=incident.state, to_value=to_state, note=note[:5000],
        )
        incident.state = to_state
        incident.updated_at = now
        incident.resolved_at = now if to_state == IncidentState.RESOLVED else None
        incident.save(update_fields=["state", "updated_at", "resolved_at"])
    return event


def add_note(incident: Incident, user: User | None, text: str, now: datetime) -> IncidentEvent:
    text = text.strip()
    if not text:
        raise ValueError(_("A note cannot be empty."))
    event = IncidentEvent.objects.create(incident=incident, at=now,
                                         kind=IncidentEvent.Kind.NOTE, actor=user,
                                         note=text[:5000])
    Incident.objects.filter(pk=incident.pk).update(updated_at=now)
    incident.updated_at = now
    return event


def assign(incident: Incident, owner: User | None, user: User | None,
           now: datetime) -> IncidentEvent:
    event = IncidentEvent.objects.create(
        incident=incident, at=now, kind=IncidentEvent.Kind.OWNER, actor=user,
        from_value=incident.owner.username[:32] if incident.owner else "",
        to_value=owner.username[:32] if owner else "",
    )
    incident.owner = owner
    incident.updated_at = now
    incident.save(update_fields=["owner", "updated_at"])
    return event


def mark_false_alarm(signal: Signal, user: User | None, now: datetime) -> None:
    """Record that a signal should not have fired; it counts in the detector's figures."""
    Signal.objects.filter(pk=signal.pk).update(false_alarm=True, false_alarm_by=user,
                                               false_alarm_at=now)
    signal.false_alarm, signal.false_alarm_by, signal.false_alarm_at = True, user, now
    if signal.incident_id:
        IncidentEvent.objects.create(
            incident_id=signal.incident_id, at=now, kind=IncidentEvent.Kind.NOTE, actor=user,
            signal=signal, note=_("Signal marked as a false alarm."),
        )


def detector_stats(workspace_id: int) -> list[dict[str, Any]]:
    """Per signal kind: how many fired and how many people called false alarms."""
    from django.db.models import Count, Q

    rows = (Signal.objects.filter(workspace_id=workspace_id).values("kind")
            .annotate(fired=Count("pk"), false_alarms=Count("pk", filter=Q(false_alarm=True))))
    by_kind = {row["kind"]: row for row in rows}
    out = []
    for kind in SignalKind:
        row = by_kind.get(kind.value, {"fired": 0, "false_alarms": 0})
        fired, false = row["fired"], row["false_alarms"]
        out.append({"kind": kind.value, "label": kind.label, "fired": fired,
                    "false_alarms": false,
                    "false_alarm_rate": round(false / fired, 3) if fired else None})
    return out
