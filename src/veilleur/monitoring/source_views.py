"""The source pages: add (pick a kind, then its form), detail with health, edit, test now.

"Test now" fetches once with what the form holds (before saving) or with the saved
config, and shows what would be ingested; it never stores anything nor moves the
cursor. With htmx the result replaces a panel of the page; without JavaScript the
same buttons post the whole form and the page comes back with the result.

Everyone in the workspace may read a source's page; adding, editing, testing and
polling need a manager or an owner (403 otherwise). Kinds that read files on the
server (``SHELL_ONLY_KINDS``) cannot be added from here at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from veilleur.accounts.models import Role, Workspace
from veilleur.accounts.services import AccessDenied, require_role, role_in
from veilleur.analysis.nlp.language import detect_language
from veilleur.analysis.normalise import NormalisedItem, safe_url
from veilleur.connectors.base import JSON, ConfigInvalid, Connector, SourceError
from veilleur.connectors.registry import (
    KINDS,
    SHELL_ONLY_KINDS,
    KindNotAllowed,
    UnknownKind,
    get_connector,
)
from veilleur.connectors.secrets import MASK, mask_config
from veilleur.monitoring.filters import language_label, start_of_day
from veilleur.monitoring.models import Health, Mention, MentionCopy, Source, SourceEvent
from veilleur.monitoring.source_forms import (
    SourceForm,
    carried_secrets,
    carry_secrets,
    creatable_kinds,
    forget_secrets,
    kind_description,
)
from veilleur.monitoring.sources import create_source, test_source, update_config
from veilleur.monitoring.views import workspace_of, workspace_required

log = logging.getLogger(__name__)

CHART_DAYS = 14
EVENTS_SHOWN = 20
SAMPLE_SHOWN = 10
SAMPLE_SCAN = 500  # items of one test fetch looked at (for the counts)
EXCERPT_CHARS = 280
WEBHOOK = "webhook"
REVEAL_KEY = "source_reveal_secret"  # session: the source whose new secret to show once


# ---- helpers -------------------------------------------------------------------------


def _can_manage(request: HttpRequest, workspace: Workspace) -> bool:
    role = role_in(request.user, workspace)  # type: ignore[arg-type]
    return role is not None and role.at_least(Role.MANAGER)


def _require_manager(request: HttpRequest) -> None:
    try:
        require_role(request.user, workspace_of(request), Role.MANAGER)  # type: ignore[arg-type]
    except AccessDenied:
        raise PermissionDenied from None


def _connector(kind: str) -> Connector | None:
    """The kind's connector, or None when this build cannot load it."""
    try:
        return get_connector(kind)
    except (UnknownKind, ImportError):
        return None


def _addable_connector(request: HttpRequest, kind: str) -> Connector | HttpResponse:
    """The connector of a kind that may be added here, or the page saying why not."""
    if kind in SHELL_ONLY_KINDS:
        return render(request, "monitoring/source_shell_only.html", {"kind": kind}, status=403)
    connector = _connector(kind) if kind in KINDS else None
    if connector is None:
        raise Http404(_("Unknown source kind."))
    return connector


def _source_of(request: HttpRequest, pk: int) -> Source:
    return get_object_or_404(
        Source.objects.for_workspace(workspace_of(request)).select_related("watch"), pk=pk)


def _carry_token(request: HttpRequest) -> str:
    return request.POST.get("carry", "")[:64]


def _source_form(request: HttpRequest, kind: str, connector: Connector,
                 source: Source | None = None) -> SourceForm:
    data = request.POST if request.method == "POST" else None
    carried = carried_secrets(request.session, _carry_token(request), kind, source) if data else {}
    return SourceForm(data, workspace=workspace_of(request), kind=kind, connector=connector,
                      source=source, carried=carried)


# ---- test now ------------------------------------------------------------------------


@dataclass
class SampleItem:
    title: str
    excerpt: str
    author: str
    author_handle: str
    published_at: datetime
    url: str
    language: str
    already_stored: bool


@dataclass
class TestOutcome:
    """What a test fetch found: sample items and counts, or the error in plain words."""

    ok: bool
    items: list[SampleItem] = field(default_factory=list)
    fetched: int = 0
    new: int = 0
    stored: int = 0
    invalid: int = 0
    error: str = ""
    permanent: bool = False
    form_errors: list[str] = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(0, self.fetched - len(self.items))


TestOutcome.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def _stored_ids(source: Source | None, items: list[NormalisedItem]) -> set[str]:
    if source is None or source.pk is None or not items:
        return set()
    ids = [item.external_id for item in items]
    known: set[str] = set()
    for model in (Mention, MentionCopy):
        known.update(model.objects.filter(  # type: ignore[attr-defined]
            source=source, external_id__in=ids).values_list("external_id", flat=True))
    return known


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "…"


def _sample(item: NormalisedItem, workspace: Workspace, stored: bool) -> SampleItem:
    try:
        code = detect_language(item.text, workspace.languages, item.lang_hint)
    except Exception:  # the sample is only a preview; enrichment decides on ingest
        code = item.lang_hint
    return SampleItem(
        title=item.title,
        excerpt=_excerpt(item.text),
        author=item.author_name or item.author_handle,
        author_handle=item.author_handle,
        published_at=item.published_at,
        url=safe_url(item.url),
        language=language_label(code) if code else "",
        already_stored=stored,
    )


def run_test(workspace: Workspace, kind: str, config: dict[str, JSON],
             source: Source | None = None) -> TestOutcome:
    """Fetch once from the start (no cursor) with ``config``; store nothing.

    ``config`` is the saved config (secrets sealed) or a form's (secrets in clear):
    both work, as only sealed values are decrypted. Items the source already stored
    are marked, so "new" is what a poll would add.
    """
    probe = Source(workspace=workspace, kind=kind, config=config, cursor=None)
    try:
        result = test_source(probe, limit=SAMPLE_SCAN)
    except ConfigInvalid as exc:
        return TestOutcome(False, error=str(exc), permanent=True)
    except Exception as exc:
        log.exception("test fetch of a %s source crashed", kind)
        return TestOutcome(False, error=_("The connector failed unexpectedly (%(error)s).")
                           % {"error": type(exc).__name__})
    if not result.ok:
        return TestOutcome(False, error=result.error, permanent=result.permanent)
    known = _stored_ids(source, result.items)
    shown = [_sample(item, workspace, item.external_id in known)
             for item in result.items[:SAMPLE_SHOWN]]
    return TestOutcome(True, items=shown, fetched=len(result.items),
                       new=len(result.items) - len(known), stored=len(known),
                       invalid=result.invalid)


def _test_panel(request: HttpRequest, result: TestOutcome,
                form: SourceForm | None = None) -> HttpResponse:
    """The "Test now" panel for htmx; posted from a form, it also brings that form's
    error messages for the values just tested (swapped out of band), so the messages
    of an earlier try do not linger beside a test that worked."""
    return render(request, "monitoring/_source_test.html",
                  {"result": result, "form": form, "form_oob": form is not None})


def _form_test(form: SourceForm) -> TestOutcome:
    if not form.is_valid():
        return TestOutcome(False, form_errors=form.error_list())
    return run_test(form.workspace, form.kind, form.config, form.source)


# ---- add -----------------------------------------------------------------------------


@workspace_required
@require_GET
def source_add_pick(request: HttpRequest) -> HttpResponse:
    """Step one of adding a source: which kind."""
    _require_manager(request)
    return render(request, "monitoring/source_kinds.html", {"kinds": creatable_kinds()})


def _form_page(request: HttpRequest, form: SourceForm, token: str = "",
               result: TestOutcome | None = None, status: int = 200) -> HttpResponse:
    if form.is_bound:
        token = carry_secrets(request.session, token, form)
    context = {
        "form": form,
        "kind": form.kind,
        "kind_label": form.connector.label,
        "kind_description": kind_description(form.kind, form.connector),
        "source": form.source,
        "carry_token": token,
        "result": result,
    }
    return render(request, "monitoring/source_form.html", context, status=status)


@workspace_required
@require_http_methods(["GET", "POST"])
def source_add(request: HttpRequest, kind: str) -> HttpResponse:
    """Step two: the kind's form; saving creates the source, polled at once."""
    _require_manager(request)
    connector = _addable_connector(request, kind)
    if isinstance(connector, HttpResponse):
        return connector
    form = _source_form(request, kind, connector)
    token = _carry_token(request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            source = create_source(workspace_of(request), kind, data["name"], form.config,
                                   data["watch"], data["poll_interval"])
        except ConfigInvalid as exc:
            form.add_config_error(exc)
        except KindNotAllowed:
            raise PermissionDenied from None
        else:
            forget_secrets(request.session, token)
            if kind == WEBHOOK:
                request.session[REVEAL_KEY] = source.pk  # its signing secret, shown once
            messages.success(request, _("Source “%(name)s” added; its first poll starts within "
                                        "a minute.") % {"name": source.name})
            return redirect("source_detail", source.pk)
    return _form_page(request, form, token)


@workspace_required
@require_POST
def source_add_test(request: HttpRequest, kind: str) -> HttpResponse:
    """Test the add form's current values: a panel (htmx) or the whole form page."""
    _require_manager(request)
    connector = _addable_connector(request, kind)
    if isinstance(connector, HttpResponse):
        return connector
    form = _source_form(request, kind, connector)
    result = _form_test(form)
    if request.htmx:  # type: ignore[attr-defined]
        return _test_panel(request, result, form)
    return _form_page(request, form, _carry_token(request), result)


# ---- detail --------------------------------------------------------------------------


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int
    height: str  # a CSS percentage of the busiest day, dot decimal


@dataclass(frozen=True)
class ConfigRow:
    label: str
    value: str
    secret: bool


def items_per_day(source: Source, today: date, days: int = CHART_DAYS) -> list[DayCount]:
    """Mentions the source stored per local day (by arrival), ``days`` days to ``today``."""
    start = today - timedelta(days=days - 1)
    rows = (
        Mention.objects.filter(source=source, fetched_at__gte=start_of_day(start),
                               fetched_at__lt=start_of_day(today + timedelta(days=1)))
        .order_by()
        .values(day=TruncDate("fetched_at", tzinfo=timezone.get_current_timezone()))
        .annotate(n=Count("id"))
    )
    counts = {row["day"]: row["n"] for row in rows}
    highest = max(counts.values(), default=0) or 1
    out = []
    for i in range(days):
        day = start + timedelta(days=i)
        n = counts.get(day, 0)
        out.append(DayCount(day, n, f"{100 * n / highest:.2f}".rstrip("0").rstrip(".")))
    return out


def _display(value: JSON) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if value is None or value == "":
        return "—"
    return str(value)


def config_rows(source: Source, connector: Connector | None) -> list[ConfigRow]:
    """The config for display, secrets masked; nothing when the kind cannot be loaded."""
    if connector is None:
        return []
    masked = mask_config(connector.fields, source.config)
    rows = []
    declared = set()
    for spec in connector.fields:
        declared.add(spec.name)
        value = masked.get(spec.name)
        if spec.secret or value == MASK:  # MASK: a key whose name says it is a secret
            value = _("set (hidden)") if value else _("not set")
        elif spec.choices:
            value = str(dict(spec.choices).get(str(value), _display(value)))
        rows.append(ConfigRow(str(spec.label), _display(value),
                              spec.secret or masked.get(spec.name) == MASK))
    for key in sorted(set(masked) - declared):  # settings this kind no longer declares
        rows.append(ConfigRow(key, _display(masked[key]), masked[key] == MASK))
    return rows


def health_summary(source: Source, latest: SourceEvent | None) -> str:
    """The source's health in plain words (the connector's own message comes after it)."""
    if source.health == Health.OK:
        if source.last_success_at is None:
            return _("Not polled yet: the first poll starts within a minute.")
        return _("The last poll worked.")
    if source.health == Health.DEGRADED:
        return _("The last poll failed. Veilleur tries again later, waiting longer after each "
                 "failure.")
    if source.health == Health.FAILING:
        return _("%(count)s polls in a row failed. Veilleur keeps trying, waiting longer each "
                 "time (at most six hours).") % {"count": source.consecutive_failures}
    if latest is not None and latest.to_health == Health.DISABLED and latest.actor:
        return _("%(actor)s disabled this source: it is not polled until someone enables it.") % {
            "actor": latest.actor}
    return _("Veilleur stopped polling this source after an error that will not go away by "
             "itself (for example refused credentials or an address that no longer exists). "
             "Fix its settings, then enable it.")


def _detail_page(request: HttpRequest, source: Source,
                 result: TestOutcome | None = None) -> HttpResponse:
    workspace = workspace_of(request)
    connector = _connector(source.kind)
    now = timezone.now()
    days = items_per_day(source, timezone.localtime(now).date())
    week = sum(day.count for day in days[-7:])
    events = list(SourceEvent.objects.filter(source=source)[:EVENTS_SHOWN])
    context: dict[str, Any] = {
        "source": source,
        "kind_label": connector.label if connector is not None else source.kind,
        "kind_available": connector is not None,
        "can_manage": _can_manage(request, workspace),
        "mention_count": Mention.objects.filter(source=source).count(),
        "days": days,
        "days_total": sum(day.count for day in days),
        "per_day_week": round(week / 7, 1),
        "events": events,
        "summary": health_summary(source, events[0] if events else None),
        "config_rows": config_rows(source, connector),
        "due": source.health != Health.DISABLED and source.next_poll_at <= now,
        "result": result,
        "webhook": _webhook_facts(request, source) if connector is not None else None,
        "coverage": _coverage(connector, source),
    }
    return render(request, "monitoring/source_detail.html", context)


def _coverage(connector: Connector | None, source: Source) -> list[str]:
    """What the platform will not give this source, said plainly (see Connector)."""
    explain = getattr(connector, "coverage", None)
    if explain is None:
        return []
    return [str(line) for line in explain(source.config or {})]


def _webhook_facts(request: HttpRequest, source: Source) -> dict[str, str] | None:
    """A webhook source's address, and its signing secret right after it was set.

    The secret is shown once, to the manager who created or renewed it (the sender
    needs it to sign); afterwards only a new one can be made.
    """
    if source.kind != WEBHOOK:
        return None
    from veilleur.hooks.services import endpoint_url, reveal_secret

    reveal = request.session.get(REVEAL_KEY) == source.pk
    if reveal:
        del request.session[REVEAL_KEY]
    try:
        secret = reveal_secret(source) if reveal else ""
    except SourceError:
        secret = ""
    return {"url": request.build_absolute_uri(endpoint_url(source)), "secret": secret}


@workspace_required
@require_GET
def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A source's health, activity, history and settings."""
    return _detail_page(request, _source_of(request, pk))


# ---- edit, test, poll now ------------------------------------------------------------


def _edit_form(request: HttpRequest, source: Source) -> SourceForm:
    connector = _connector(source.kind)
    if connector is None:
        raise Http404(_("This kind of source is not available in this installation."))
    if source.kind in SHELL_ONLY_KINDS:
        raise PermissionDenied
    return _source_form(request, source.kind, connector, source)


@workspace_required
@require_http_methods(["GET", "POST"])
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a source's name, settings, watch and interval; a blank secret is kept."""
    source = _source_of(request, pk)
    _require_manager(request)
    form = _edit_form(request, source)
    token = _carry_token(request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        before = source.config
        try:
            update_config(source, form.config)
        except ConfigInvalid as exc:
            form.add_config_error(exc)
        except SourceError as exc:  # a stored secret that cannot be decrypted any more
            form.add_error(None, str(exc))
        else:
            source.name = data["name"]
            source.watch = data["watch"]
            source.poll_interval = data["poll_interval"]
            fields = ["name", "watch", "poll_interval"]
            if source.config != before and source.health != Health.DISABLED:
                source.next_poll_at = timezone.now()  # try the new settings at once
                fields.append("next_poll_at")
            source.save(update_fields=fields)
            forget_secrets(request.session, token)
            if source.health == Health.DISABLED:
                messages.success(request, _("Source “%(name)s” saved. It is disabled: enable it "
                                            "to poll it again.") % {"name": source.name})
            else:
                messages.success(request, _("Source “%(name)s” saved.") % {"name": source.name})
            return redirect("source_detail", source.pk)
    return _form_page(request, form, token)


@workspace_required
@require_POST
def source_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Test now: with the edit form's values when posted from it, else the saved config."""
    source = _source_of(request, pk)
    _require_manager(request)
    htmx = bool(request.htmx)  # type: ignore[attr-defined]
    if "name" in request.POST:  # the edit form's fields
        form = _edit_form(request, source)
        result = _form_test(form)
        if htmx:
            return _test_panel(request, result, form)
        return _form_page(request, form, _carry_token(request), result)
    result = run_test(source.workspace, source.kind, source.config, source)
    if htmx:
        return _test_panel(request, result)
    return _detail_page(request, source, result)


@workspace_required
@require_POST
def source_poll_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Make the source due now: the scheduler's next pass polls it."""
    source = _source_of(request, pk)
    _require_manager(request)
    if source.health == Health.DISABLED:
        messages.error(request, _("This source is disabled: enable it to poll it."))
    else:
        Source.objects.filter(pk=source.pk).update(next_poll_at=timezone.now())
        messages.success(request, _("Source “%(name)s” will be polled within a minute.")
                         % {"name": source.name})
    return redirect("source_detail", source.pk)


@workspace_required
@require_POST
def source_new_secret(request: HttpRequest, pk: int) -> HttpResponse:
    """A webhook source's new signing secret (the old one stops working), shown once."""
    source = _source_of(request, pk)
    _require_manager(request)
    if source.kind != WEBHOOK:
        raise Http404(_("Only webhook sources have a signing secret to renew."))
    from veilleur.hooks.services import rotate_secret

    rotate_secret(source)
    request.session[REVEAL_KEY] = source.pk
    messages.success(request, _("A new signing secret replaces the old one, which no longer "
                                "works. Copy it now: it is shown only once."))
    return redirect("source_detail", source.pk)
