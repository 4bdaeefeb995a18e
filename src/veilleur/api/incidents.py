"""``/api/incidents`` and ``/api/signals``: what the detectors found and how people respond.

A signal (a detector firing, with its explanation) opens or updates its watch's one
ongoing incident. Responders and above move incidents through their states, add
notes, and mark signals as false alarms, through the same service functions as the
incident pages (``crisis.incidents``). Explanations are returned as stored: their
strings come from mentions strangers wrote, so a client must escape them for HTML.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from veilleur.accounts.models import Role
from veilleur.api.auth import ApiError, NotFound, caller_of, require_role
from veilleur.api.pagination import paginate
from veilleur.api.schemas import (
    ACCESS_ERRORS,
    MAX_ID,
    WRITE_ERRORS,
    ErrorOut,
    Page,
    PageParams,
    ValidationErrorOut,
)
from veilleur.crisis.incidents import TransitionRefused, add_note, mark_false_alarm, transition
from veilleur.crisis.models import (
    TRANSITIONS,
    Incident,
    IncidentEvent,
    IncidentState,
    Signal,
    SignalKind,
)

router = Router(tags=["incidents"])
signals_router = Router(tags=["incidents"])

MENTION_IDS_SHOWN = 100


class StateFilter(StrEnum):
    ONGOING = "ongoing"
    RESOLVED = "resolved"
    ALL = "all"
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESPONDING = "responding"
    MONITORING = "monitoring"


class IncidentFilters(Schema):
    state: StateFilter = Field(
        StateFilter.ALL,
        description="ongoing (not resolved), resolved, all, or one state: open, "
        "acknowledged, responding, monitoring.",
    )
    watch: int | None = Field(None, ge=1, le=MAX_ID, description="Only this watch's (id).")


class IncidentOut(Schema):
    id: int
    title: str = Field(description="The opening signal's kind and the watch, in the "
                       "caller's language (Accept-Language or their account's).")
    kind: SignalKind | None = Field(description="The kind of the signal that opened it "
                                    "(null for an incident whose kind is unknown).")
    watch_id: int
    watch_name: str
    severity: int = Field(description="1 (most severe) to 4.")
    state: IncidentState
    owner: str | None = Field(description="The owner's username, or null.")
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    signal_count: int

    @staticmethod
    def resolve_title(obj: Incident) -> str:
        return obj.display_title

    @staticmethod
    def resolve_kind(obj: Incident) -> str | None:
        return obj.kind or None

    @staticmethod
    def resolve_watch_name(obj: Incident) -> str:
        return obj.watch.name

    @staticmethod
    def resolve_owner(obj: Incident) -> str | None:
        return obj.owner.get_username() if obj.owner else None

    @staticmethod
    def resolve_signal_count(obj: Incident) -> int:
        return int(getattr(obj, "signal_count", 0))


class IncidentPage(Page):
    items: list[IncidentOut]


class SignalOut(Schema):
    """One detector firing: what it saw against what it expected, and why."""

    id: int
    kind: SignalKind
    watch_id: int
    incident_id: int | None
    window_start: datetime
    window_end: datetime
    observed: float
    expected: float
    confidence: float = Field(description="Strength in [0, 1].")
    severity: int
    explanation: dict[str, Any] = Field(
        description="Top new terms and hashtags, sources, authors, sentiment split, example "
        "mentions (untrusted text: escape it for HTML)."
    )
    created_at: datetime
    false_alarm: bool
    false_alarm_by: str | None
    false_alarm_at: datetime | None

    @staticmethod
    def resolve_false_alarm_by(obj: Signal) -> str | None:
        return obj.false_alarm_by.get_username() if obj.false_alarm_by else None

    @staticmethod
    def resolve_explanation(obj: Signal) -> dict[str, Any]:
        return dict(obj.explanation) if isinstance(obj.explanation, dict) else {}


class EventOut(Schema):
    """One line of the timeline."""

    id: int
    at: datetime
    kind: IncidentEvent.Kind = Field(description="signal, state, note, owner or severity.")
    actor: str | None = Field(description="Who did it (username); null for Veilleur or a token.")
    from_value: str
    to_value: str
    note: str
    signal_id: int | None

    @staticmethod
    def resolve_actor(obj: IncidentEvent) -> str | None:
        return obj.actor.get_username() if obj.actor else None


class IncidentDetailOut(IncidentOut):
    next_states: list[IncidentState] = Field(description="The states it may move to now.")
    signals: list[SignalOut] = Field(description="Newest first.")
    events: list[EventOut] = Field(description="The timeline, oldest first.")
    mention_ids: list[int] = Field(
        description=f"Linked (evidence) mentions, newest first, at most {MENTION_IDS_SHOWN}."
    )

    @staticmethod
    def resolve_next_states(obj: Incident) -> list[str]:
        allowed = TRANSITIONS.get(obj.state, frozenset())
        return [state for state in IncidentState.values if state in allowed]

    @staticmethod
    def resolve_signals(obj: Incident) -> list[Signal]:
        return list(obj.signals.select_related("false_alarm_by").order_by("-window_end", "-pk"))

    @staticmethod
    def resolve_events(obj: Incident) -> list[IncidentEvent]:
        return list(obj.events.select_related("actor").order_by("at", "pk"))

    @staticmethod
    def resolve_mention_ids(obj: Incident) -> list[int]:
        return list(obj.mentions.order_by("-published_at", "-pk")
                    .values_list("pk", flat=True)[:MENTION_IDS_SHOWN])


class TransitionIn(Schema):
    state: IncidentState = Field(description="The state to move to (see next_states).")
    note: str = Field("", max_length=5000, description="An optional comment, kept with it.")


class NoteIn(Schema):
    text: str = Field(min_length=1, max_length=5000, pattern=r"\S",
                      description="The note; blank text is refused.")


def _incidents(request: HttpRequest) -> QuerySet[Incident]:
    return (Incident.objects.filter(workspace=caller_of(request).workspace)
            .select_related("watch", "owner"))


def _incident(request: HttpRequest, incident_id: int) -> Incident:
    incident = _incidents(request).annotate(signal_count=Count("signals")).filter(
        pk=incident_id).first()
    if incident is None:
        raise NotFound("incident not found")
    return incident


@router.get(
    "",
    response={200: IncidentPage, **ACCESS_ERRORS, 422: ValidationErrorOut},
    summary="List incidents",
    operation_id="listIncidents",
)
def list_incidents(request: HttpRequest, filters: Query[IncidentFilters],
                   page: Query[PageParams]) -> dict[str, Any]:
    """Incidents of the workspace, newest opened first; filter by ``state`` and ``watch``."""
    incidents = _incidents(request).annotate(signal_count=Count("signals"))
    if filters.state == StateFilter.ONGOING:
        incidents = incidents.exclude(state=IncidentState.RESOLVED)
    elif filters.state != StateFilter.ALL:
        incidents = incidents.filter(state=filters.state.value)
    if filters.watch is not None:
        incidents = incidents.filter(watch_id=filters.watch)
    return paginate(request, incidents.order_by("-opened_at", "-pk"), page)


@router.get(
    "/{int:incident_id}",
    response={200: IncidentDetailOut, **ACCESS_ERRORS},
    summary="One incident with its signals and timeline",
    operation_id="getIncident",
)
def get_incident(request: HttpRequest, incident_id: int) -> Incident:
    """The incident, its signals (with explanations), its timeline and linked mentions."""
    return _incident(request, incident_id)


@router.post(
    "/{int:incident_id}/transition",
    response={200: IncidentDetailOut, **WRITE_ERRORS, 409: ErrorOut, 422: ValidationErrorOut},
    summary="Move an incident to another state (responder or above)",
    operation_id="transitionIncident",
)
def transition_incident(request: HttpRequest, incident_id: int,
                        payload: TransitionIn) -> Incident:
    """Along ``open → acknowledged → responding → monitoring → resolved`` (and back to
    ``open`` from ``resolved``); a move the table does not allow is ``409``."""
    caller = require_role(request, Role.RESPONDER)
    incident = _incident(request, incident_id)
    try:
        transition(incident, payload.state.value, caller.user, timezone.now(),
                   note=payload.note.strip())
    except TransitionRefused:
        raise ApiError(
            f"an incident cannot go from {incident.state} to {payload.state.value}; "
            f"allowed: {', '.join(sorted(TRANSITIONS.get(incident.state, ()))) or 'none'}",
            status=409,
        ) from None
    return incident


@router.post(
    "/{int:incident_id}/notes",
    response={201: EventOut, **WRITE_ERRORS, 422: ValidationErrorOut},
    summary="Add a note to an incident's timeline (responder or above)",
    operation_id="addIncidentNote",
)
def add_incident_note(request: HttpRequest, incident_id: int,
                      payload: NoteIn) -> Status[IncidentEvent]:
    """The note becomes a timeline event, returned with ``201``."""
    caller = require_role(request, Role.RESPONDER)
    incident = _incident(request, incident_id)
    try:
        event = add_note(incident, caller.user, payload.text, timezone.now())
    except ValueError as empty:  # pragma: no cover - the schema refuses blank text first
        raise ApiError(str(empty), status=422) from None
    return Status(201, event)


@signals_router.post(
    "/{int:signal_id}/false-alarm",
    response={200: SignalOut, **WRITE_ERRORS},
    summary="Mark a signal as a false alarm (responder or above)",
    operation_id="markSignalFalseAlarm",
)
def mark_signal_false_alarm(request: HttpRequest, signal_id: int) -> Signal:
    """Record that the signal should not have fired; it counts in its detector's share of
    false alarms. Idempotent: a signal already marked keeps who marked it first."""
    caller = require_role(request, Role.RESPONDER)
    signal = (Signal.objects.filter(workspace=caller.workspace, pk=signal_id)
              .select_related("false_alarm_by").first())
    if signal is None:
        raise NotFound("signal not found")
    if not signal.false_alarm:
        mark_false_alarm(signal, caller.user, timezone.now())
    return signal
