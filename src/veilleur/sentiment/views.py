"""Sentiment pages: correct a mention's sentiment, and the workspace's model page.

Corrections go through ``corrections.record_correction`` (which also queues a
retraining when enough new corrections piled up); the model page trains, switches
on and off through the same service functions as the API. An id of another
workspace is not found (404) before any role is checked, as elsewhere.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from veilleur.accounts.models import Role, User
from veilleur.accounts.services import AccessDenied, require_role
from veilleur.monitoring.models import Mention, Sentiment
from veilleur.monitoring.views import workspace_of, workspace_required
from veilleur.sentiment.corrections import (
    MIN_CORRECTIONS,
    activate,
    deactivate,
    record_correction,
)
from veilleur.sentiment.models import HeadState, SentimentHead
from veilleur.sentiment.overview import corrected_count, heads_of, recent_corrections
from veilleur.sentiment.tasks import train_workspace_head_task


def _require(request: HttpRequest, minimum: Role) -> User:
    try:
        require_role(request.user, workspace_of(request), minimum)  # type: ignore[arg-type]
    except AccessDenied:
        raise PermissionDenied from None
    return request.user  # type: ignore[return-value]


def _next_url(request: HttpRequest) -> str:
    """Where to go back after a form post: a local address, or the mentions page."""
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("mentions")


@workspace_required
@require_POST
def mention_sentiment(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a mention's sentiment (responders and above): the badge, or back to the list."""
    workspace = workspace_of(request)
    mention = get_object_or_404(Mention.objects.for_workspace(workspace), pk=pk)
    user = _require(request, Role.RESPONDER)
    label = request.POST.get("label", "")
    if label not in Sentiment.values:
        return HttpResponseBadRequest(_("Expected label=negative, neutral or positive."))
    record_correction(mention, label, user, timezone.now())
    next_url = _next_url(request)
    if getattr(request, "htmx", False):
        return render(request, "sentiment/_sentiment.html",
                      {"mention": mention, "next_url": next_url})
    messages.success(request, _("Sentiment corrected: “%(label)s”.")
                     % {"label": Sentiment(label).label})
    if "#" not in next_url:
        next_url += f"#mention-{mention.pk}"
    return redirect(next_url)


@workspace_required
@require_GET
def sentiment_model(request: HttpRequest) -> HttpResponse:
    """The workspace's sentiment model: corrections, head versions and their figures."""
    workspace = workspace_of(request)
    corrected = corrected_count(workspace)
    heads = list(heads_of(workspace))
    context = {
        "corrected": corrected,
        "min_corrections": MIN_CORRECTIONS,
        "missing": max(0, MIN_CORRECTIONS - corrected),
        "heads": heads,
        "active": next((h for h in heads if h.state == HeadState.ACTIVE), None),
        "training": any(h.state == HeadState.TRAINING for h in heads),
        "switchable": (HeadState.READY, HeadState.RETIRED),
        "corrections": recent_corrections(workspace),
    }
    return render(request, "sentiment/model.html", context)


@workspace_required
@require_POST
def sentiment_train(request: HttpRequest) -> HttpResponse:
    """Queue the training of the next head version (managers and owners)."""
    workspace = workspace_of(request)
    _require(request, Role.MANAGER)
    corrected = corrected_count(workspace)
    if corrected < MIN_CORRECTIONS:
        messages.error(request, ngettext(
            "%(missing)d more correction is needed before training.",
            "%(missing)d more corrections are needed before training.",
            MIN_CORRECTIONS - corrected,
        ) % {"missing": MIN_CORRECTIONS - corrected})
    else:
        train_workspace_head_task.enqueue(workspace.pk, force=True)
        messages.success(request, _(
            "Training queued. The new version appears below when it is ready; it is not "
            "switched on until you choose to."
        ))
    return redirect("sentiment_model")


@workspace_required
@require_POST
def sentiment_activate(request: HttpRequest, version: int) -> HttpResponse:
    """Switch a ready or retired head version on for new mentions (managers and owners)."""
    workspace = workspace_of(request)
    head = get_object_or_404(SentimentHead.objects.filter(workspace=workspace).defer("weights"),
                             version=version)
    user = _require(request, Role.MANAGER)
    try:
        activate(head, user, timezone.now())
    except ValueError:
        messages.error(request, _(
            "Version %(version)d is “%(state)s”: only a version that is ready or retired "
            "can be switched on."
        ) % {"version": head.version, "state": head.get_state_display()})
    else:
        messages.success(request, _(
            "Version %(version)d is switched on: new mentions are scored with it."
        ) % {"version": head.version})
    return redirect("sentiment_model")


@workspace_required
@require_POST
def sentiment_use_shipped(request: HttpRequest) -> HttpResponse:
    """Back to the shipped model for new mentions (managers and owners)."""
    workspace = workspace_of(request)
    _require(request, Role.MANAGER)
    if deactivate(workspace.pk):
        messages.success(request, _("New mentions are scored with the shipped model again."))
    else:
        messages.info(request, _("Nothing to change: the shipped model is already in use."))
    return redirect("sentiment_model")
