"""Alert settings pages: destinations (Apprise URLs) and the rules that route signals to them.

Every member sees the lists and a destination's delivery log; managers and owners
add, edit, enable, delete and send a test. A destination's URL holds secrets: pages
show :func:`~veilleur.crisis.delivery.masked_url` only and the edit form never writes
the URL back. An id of another workspace is not found (404) before any role is
checked, as elsewhere.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from veilleur.accounts.models import Role, User, Workspace
from veilleur.accounts.services import AccessDenied, require_role, role_in
from veilleur.crisis.alert_forms import DestinationForm, RuleForm
from veilleur.crisis.delivery import Context, masked_url, send
from veilleur.crisis.models import (
    AlertDelivery,
    AlertDestination,
    AlertRule,
    DeliveryStatus,
    SignalKind,
)
from veilleur.monitoring.views import workspace_of, workspace_required

LATEST_DELIVERIES = 50


def _require_manager(request: HttpRequest) -> User:
    try:
        require_role(request.user, workspace_of(request), Role.MANAGER)  # type: ignore[arg-type]
    except AccessDenied:
        raise PermissionDenied from None
    return request.user  # type: ignore[return-value]


def _can_manage(request: HttpRequest) -> bool:
    role = role_in(request.user, workspace_of(request))  # type: ignore[arg-type]
    return role is not None and role.at_least(Role.MANAGER)


def _destinations(workspace: Workspace) -> list[AlertDestination]:
    """The workspace's destinations, each with ``masked`` (the only form of its URL shown)."""
    found = (AlertDestination.objects.filter(workspace=workspace)
             .annotate(rule_count=Count("rules")).order_by("name"))
    destinations: list[AlertDestination] = list(found)
    for destination in destinations:
        destination.masked = masked_url(destination.url)  # type: ignore[attr-defined]
    return destinations


def _language_of(destination: AlertDestination) -> str:
    """The language of what is written to a destination (as in ``delivery.send``)."""
    return destination.language or settings.LANGUAGE_CODE


def _kind_labels(kinds: list[str]) -> list[str]:
    labels = dict(SignalKind.choices)
    return [str(labels.get(kind, kind)) for kind in kinds]


@workspace_required
@require_GET
def alert_settings(request: HttpRequest) -> HttpResponse:
    """Destinations and rules of the workspace (every member; managers get the buttons)."""
    workspace = workspace_of(request)
    rules = list(AlertRule.objects.filter(workspace=workspace).select_related("watch")
                 .prefetch_related(Prefetch("destinations",
                                            AlertDestination.objects.order_by("name")))
                 .order_by("pk"))
    for rule in rules:
        rule.kind_labels = _kind_labels(list(rule.kinds or []))  # type: ignore[attr-defined]
    context = {"destinations": _destinations(workspace), "rules": rules,
               "can_manage": _can_manage(request)}
    return render(request, "crisis/alerts.html", context)


@workspace_required
@require_GET
def destination_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One destination: its state and its latest deliveries (every member)."""
    workspace = workspace_of(request)
    destination = get_object_or_404(AlertDestination, workspace=workspace, pk=pk)
    deliveries = (AlertDelivery.objects.filter(destination=destination)
                  .select_related("rule", "incident")
                  .defer("body").order_by("-at", "-pk")[:LATEST_DELIVERIES])
    context = {"destination": destination, "masked": masked_url(destination.url),
               "deliveries": deliveries, "latest": LATEST_DELIVERIES,
               "can_manage": _can_manage(request)}
    return render(request, "crisis/alerts_destination.html", context)


@workspace_required
@require_http_methods(["GET", "POST"])
def destination_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add (no ``pk``) or edit a destination; a blank URL on edit keeps the stored one."""
    workspace = workspace_of(request)
    destination = (get_object_or_404(AlertDestination, workspace=workspace, pk=pk)
                   if pk else None)
    _require_manager(request)
    current = translation.get_language() or settings.LANGUAGE_CODE
    initial = {} if destination else {
        "language": current if current in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE}
    form = DestinationForm(request.POST or None, instance=destination, workspace=workspace,
                           initial=initial)
    if request.method == "POST" and form.is_valid():
        url_changed = destination is not None and form.url_changed()
        saved = form.save()
        messages.success(request, _("Destination “%(name)s” saved.") % {"name": saved.name})
        if not saved.enabled:
            messages.warning(request, _(
                "This destination is still disabled: send a test, then enable it again.")
                if url_changed else _("This destination is still disabled."))
        return redirect("alert_destination", saved.pk)
    context = {"form": form, "destination": destination,
               "masked": masked_url(destination.url) if destination else ""}
    return render(request, "crisis/alerts_destination_form.html", context)


@workspace_required
@require_POST
def destination_enable(request: HttpRequest, pk: int) -> HttpResponse:
    """Enable a destination again (its reason and failure count cleared), or disable it."""
    workspace = workspace_of(request)
    destination = get_object_or_404(AlertDestination, workspace=workspace, pk=pk)
    user = _require_manager(request)
    if request.POST.get("enabled", "1") == "0":
        with translation.override(_language_of(destination)):
            # Stored like delivery's own reasons: in the destination's language.
            reason = _("Disabled by %(user)s.") % {"user": user.get_username()}
        destination.enabled = False
        destination.disabled_reason = reason
        destination.save(update_fields=["enabled", "disabled_reason"])
        messages.success(request, _("Destination “%(name)s” disabled: no alert goes there "
                                    "until it is enabled again.") % {"name": destination.name})
    else:
        destination.enabled = True
        destination.disabled_reason = ""
        destination.consecutive_failures = 0
        destination.save(update_fields=["enabled", "disabled_reason", "consecutive_failures"])
        messages.success(request, _("Destination “%(name)s” enabled again.")
                         % {"name": destination.name})
    return redirect("alert_destination", destination.pk)


@workspace_required
@require_POST
def destination_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a short test message now, through the same delivery code as alerts."""
    workspace = workspace_of(request)
    destination = get_object_or_404(AlertDestination, workspace=workspace, pk=pk)
    user = _require_manager(request)
    with translation.override(_language_of(destination)):
        title = _("Veilleur: test message")
        body = _("This is a test sent by %(user)s from Veilleur. Alerts of the workspace "
                 "“%(workspace)s” that are routed to the destination “%(name)s” arrive here.") % {
            "user": user.get_username(), "workspace": workspace.name, "name": destination.name}
    rows = send(destination, title, body, Context(), timezone.now(), test=True)
    if rows and rows[-1].status == DeliveryStatus.SENT:
        messages.success(request, _("Test message delivered to “%(name)s”.")
                         % {"name": destination.name})
    else:
        # The reason is already scrubbed of the URL's secrets by delivery.send.
        reason = rows[-1].reason if rows else ""
        messages.error(request, _("The test message to “%(name)s” failed: %(reason)s")
                       % {"name": destination.name, "reason": reason})
    return redirect("alert_destination", destination.pk)


@workspace_required
@require_http_methods(["GET", "POST"])
def destination_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask, then delete a destination and its delivery log (managers and owners)."""
    workspace = workspace_of(request)
    destination = get_object_or_404(AlertDestination, workspace=workspace, pk=pk)
    _require_manager(request)
    if request.method == "POST":
        name = destination.name
        destination.delete()
        messages.success(request, _("Destination “%(name)s” deleted.") % {"name": name})
        return redirect("alerts")
    rules = destination.rules.count()
    context = {"object_name": destination.name, "rule_count": rules,
               "kind": "destination",
               "cancel_url": reverse("alert_destination", args=[destination.pk])}
    return render(request, "crisis/alerts_confirm_delete.html", context)


@workspace_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add (no ``pk``) or edit an alert rule (managers and owners)."""
    workspace = workspace_of(request)
    rule = get_object_or_404(AlertRule, workspace=workspace, pk=pk) if pk else None
    _require_manager(request)
    form = RuleForm(request.POST or None, instance=rule, workspace=workspace)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Alert rule saved."))
        return redirect("alerts")
    has_destinations = AlertDestination.objects.filter(workspace=workspace).exists()
    return render(request, "crisis/alerts_rule_form.html",
                  {"form": form, "rule": rule, "has_destinations": has_destinations})


@workspace_required
@require_http_methods(["GET", "POST"])
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask, then delete an alert rule (managers and owners); its log rows stay."""
    workspace = workspace_of(request)
    rule = get_object_or_404(AlertRule, workspace=workspace, pk=pk)
    _require_manager(request)
    if request.method == "POST":
        rule.delete()
        messages.success(request, _("Alert rule deleted."))
        return redirect("alerts")
    context = {"object_name": rule.watch.name if rule.watch else _("Every watch"),
               "kind": "rule", "cancel_url": reverse("alerts")}
    return render(request, "crisis/alerts_confirm_delete.html", context)
