"""Incident pages: the list (with the detectors' figures) and one incident with its actions.

Everyone in the workspace reads; responders and above act (change the state, add a
note, assign an owner, mark a signal as a false alarm) through plain POST forms that
redirect back (post/redirect/get). A refused action re-renders the page with the
error as a message and what the person typed still in the form. An id of another
workspace is not found (404) before any role is checked, as elsewhere.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from veilleur.accounts.models import Role, User, Workspace
from veilleur.accounts.services import AccessDenied, require_role, role_in
from veilleur.crisis.incident_chart import incident_chart
from veilleur.crisis.incident_forms import ALL, ONGOING, RESOLVED, IncidentFilterForm
from veilleur.crisis.incident_pages import (
    kind_label,
    linked_mentions,
    members_of,
    next_states,
    signals_of,
    state_label,
    timeline,
)
from veilleur.crisis.incidents import (
    TransitionRefused,
    add_note,
    assign,
    detector_stats,
    mark_false_alarm,
    transition,
)
from veilleur.crisis.models import Incident, Signal
from veilleur.monitoring.views import filter_querystring, workspace_of, workspace_required

PAGE_SIZE = 50


def _require(request: HttpRequest, minimum: Role) -> User:
    try:
        require_role(request.user, workspace_of(request), minimum)  # type: ignore[arg-type]
    except AccessDenied:
        raise PermissionDenied from None
    return request.user  # type: ignore[return-value]


def _can_act(request: HttpRequest, workspace: Workspace) -> bool:
    role = role_in(request.user, workspace)  # type: ignore[arg-type]
    return role is not None and role.at_least(Role.RESPONDER)


def _incidents_of(workspace: Workspace) -> QuerySet[Incident]:
    return Incident.objects.filter(workspace=workspace)


def _state_tabs(request: HttpRequest, current: str) -> list[dict[str, Any]]:
    """Ongoing / Resolved / All, each link keeping the watch filter."""
    watch = request.GET.get("watch", "")
    tabs = []
    for value, label in ((ONGOING, _("Ongoing")), (RESOLVED, _("Resolved")), (ALL, _("All"))):
        query = urlencode([("state", value), *([("watch", watch)] if watch else [])])
        tabs.append({"value": value, "label": label, "query": query, "current": value == current})
    return tabs


@workspace_required
@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    """Incidents (ongoing by default), the filters, and each detector's figures."""
    workspace = workspace_of(request)
    form = IncidentFilterForm(request.GET, workspace=workspace)
    incidents = form.apply(
        _incidents_of(workspace).select_related("watch", "owner")
        .annotate(signal_count=Count("signals"))
    )
    paginator = Paginator(incidents, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "incidents": list(page.object_list),
        "total": paginator.count,
        "state": form.chosen_state,
        "tabs": _state_tabs(request, form.chosen_state),
        "filters": filter_querystring(request),
        "stats": detector_stats(workspace.pk),
    }
    return render(request, "crisis/incidents.html", context)


def _render_incident(request: HttpRequest, incident: Incident, status: int = 200,
                     kept: dict[str, str] | None = None) -> HttpResponse:
    """The incident page; ``kept`` refills a form after a refused action."""
    workspace = workspace_of(request)
    can_act = _can_act(request, workspace)
    signals, signal_total = signals_of(incident)
    events, hidden_events = timeline(incident)
    context = {
        "incident": incident,
        "state_label": state_label(incident.state),
        "chart": incident_chart(incident, timezone.now()),
        "signals": signals,
        "signal_total": signal_total,
        "events": events,
        "hidden_events": hidden_events,
        "mentions": linked_mentions(incident),
        "mention_total": incident.mentions.count(),
        "can_act": can_act,
        "next_states": next_states(incident) if can_act else [],
        "members": members_of(workspace) if can_act else [],
        "kept": kept or {},
        # Sentiment corrections on the linked mentions come back here.
        "next_url": request.path,
    }
    return render(request, "crisis/incident.html", context, status=status)


def _incident_url(incident: Incident, anchor: str = "") -> str:
    url = reverse("incident", kwargs={"pk": incident.pk})
    return f"{url}#{anchor}" if anchor else url


@workspace_required
@require_GET
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One incident: header, chart, signals and why, timeline, linked mentions, actions."""
    workspace = workspace_of(request)
    incident = get_object_or_404(_incidents_of(workspace).select_related("watch", "owner"),
                                 pk=pk)
    return _render_incident(request, incident)


@workspace_required
@require_POST
def incident_transition(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the incident to ``state`` (responders and above), with an optional comment.

    ``current`` is the state the person saw: if someone else moved the incident in the
    meantime, nothing happens and the page says so, rather than acting on a stale view.
    """
    workspace = workspace_of(request)
    wanted = request.POST.get("state", "")
    seen = request.POST.get("current", "")
    comment = request.POST.get("note", "").strip()
    error = ""
    with transaction.atomic():
        # Locked: two people pressing buttons at once go one after the other.
        incident = get_object_or_404(_incidents_of(workspace).select_for_update(), pk=pk)
        user = _require(request, Role.RESPONDER)
        if seen and seen != incident.state:
            error = _("Someone changed this incident while you were reading it: it is now "
                      "“%(state)s”. Nothing was changed.") % {"state": state_label(incident.state)}
        else:
            try:
                transition(incident, wanted, user, timezone.now(), note=comment)
            except TransitionRefused as refused:
                error = str(refused)
    if error:
        messages.error(request, error)
        incident = _incidents_of(workspace).select_related("watch", "owner").get(pk=pk)
        return _render_incident(request, incident, status=409, kept={"transition_note": comment})
    messages.success(request, _("The incident is now “%(state)s”.")
                     % {"state": state_label(incident.state)})
    return redirect(_incident_url(incident))


@workspace_required
@require_POST
def incident_note(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a note to the timeline (responders and above)."""
    workspace = workspace_of(request)
    incident = get_object_or_404(_incidents_of(workspace).select_related("watch", "owner"),
                                 pk=pk)
    user = _require(request, Role.RESPONDER)
    text = request.POST.get("text", "")
    try:
        event = add_note(incident, user, text, timezone.now())
    except ValueError as empty:
        messages.error(request, str(empty))
        return _render_incident(request, incident, status=400, kept={"note_text": text})
    messages.success(request, _("Note added."))
    return redirect(_incident_url(incident, f"event-{event.pk}"))


@workspace_required
@require_POST
def incident_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the incident an owner among the workspace's members, or none (responders+)."""
    workspace = workspace_of(request)
    incident = get_object_or_404(_incidents_of(workspace).select_related("watch", "owner"),
                                 pk=pk)
    user = _require(request, Role.RESPONDER)
    wanted = request.POST.get("owner", "")
    owner = None
    if wanted:
        owner = next((m for m in members_of(workspace) if str(m.pk) == wanted), None)
        if owner is None:
            messages.error(request, _("Choose a member of this workspace."))
            return _render_incident(request, incident, status=400)
    if owner == incident.owner:
        messages.info(request, _("Nothing to change: the incident already has that owner."))
        return redirect(_incident_url(incident))
    assign(incident, owner, user, timezone.now())
    if owner is None:
        messages.success(request, _("The incident has no owner now."))
    else:
        messages.success(request, _("Incident assigned to %(user)s.")
                         % {"user": owner.get_username()})
    return redirect(_incident_url(incident))


@workspace_required
@require_POST
def signal_false_alarm(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that a signal should not have fired (responders and above)."""
    workspace = workspace_of(request)
    signal = get_object_or_404(Signal.objects.filter(workspace=workspace), pk=pk)
    user = _require(request, Role.RESPONDER)
    if signal.false_alarm:
        messages.info(request, _("This signal is already marked as a false alarm."))
    else:
        mark_false_alarm(signal, user, timezone.now())
        messages.success(request, _(
            "Signal marked as a false alarm: it counts in the figures of the “%(kind)s” "
            "detector."
        ) % {"kind": kind_label(signal.kind)})
    if signal.incident_id is None:
        return redirect("incidents")
    return redirect(f"{reverse('incident', kwargs={'pk': signal.incident_id})}#signal-{pk}")
