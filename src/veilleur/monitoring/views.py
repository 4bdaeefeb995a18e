"""The monitoring pages: mentions (with live updates), sources and watches.

Every view reads through ``request.workspace`` (set by the accounts middleware from
the user's memberships) and ``for_workspace`` querysets, so an id from another
workspace is simply not found (404).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from veilleur.accounts.models import Role, Workspace
from veilleur.accounts.services import AccessDenied, require_role, role_in
from veilleur.analysis.normalise import safe_url
from veilleur.monitoring.filters import MentionFilterForm
from veilleur.monitoring.models import Health, Mention, Source, Story, Watch
from veilleur.monitoring.sources import set_enabled
from veilleur.search.services import search_mentions
from veilleur.sentiment.charts import SentimentChart, chart_window, sentiment_chart

PAGE_SIZE = 50
# A poll returns at most this many new mentions; the page is a view, not an archive.
LIVE_LIMIT = 50
POLL_SECONDS = 4
# A story's other members shown when its row is expanded (newest first).
STORY_MEMBERS_SHOWN = 20
# Query parameters that are not filters: kept out of the links that carry the filters.
NON_FILTER_PARAMS = {"page", "after"}

View = Callable[..., HttpResponse]


def workspace_of(request: HttpRequest) -> Workspace:
    """The current workspace; only call it behind :func:`workspace_required`."""
    workspace: Workspace | None = getattr(request, "workspace", None)
    if workspace is None:  # pragma: no cover - the decorator guarantees it
        raise PermissionDenied
    return workspace


def workspace_required(view: View) -> View:
    """Login required, then a workspace: a user without one gets a friendly page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if getattr(request, "htmx", False):
                # A poll after the session expired: send the whole page to the login
                # form instead of swapping the login page into the list.
                response = HttpResponse(status=204)
                response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
                return response
            return redirect_to_login(request.get_full_path())
        if getattr(request, "workspace", None) is None:
            return render(request, "core/no_workspace.html")
        return view(request, *args, **kwargs)

    return wrapper


def filter_querystring(request: HttpRequest) -> str:
    """The current filters as a query string, without paging or live cursor."""
    pairs = [
        (key, value)
        for key, values in request.GET.lists()
        if key not in NON_FILTER_PARAMS
        for value in values
        if value
    ]
    return urlencode(pairs)


def _with_details(mentions: QuerySet[Mention]) -> QuerySet[Mention]:
    return mentions.select_related("source", "author").prefetch_related("watches")


def _displayable(mentions: list[Mention]) -> list[Mention]:
    """Attach ``link``: the URL only when it is a plain http(s) one (stored data may be old)."""
    for mention in mentions:
        mention.link = safe_url(mention.url)  # type: ignore[attr-defined]
    return mentions


class _Counted:
    """A sized stand-in for the Paginator: the search counted the results already."""

    def __init__(self, total: int) -> None:
        self.total = total

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, window: slice) -> list[Mention]:
        return []


def _search_page(request: HttpRequest, workspace: Workspace, form: MentionFilterForm,
                 search: str) -> tuple[Page, list[Mention]]:
    """A page of full-text results, newest first, through the search index.

    The generic queryset path works too, but counting and sorting a very common
    term that way costs ~30x more at a million mentions (docs/search.md).
    """
    try:
        wanted = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        wanted = 1
    f = form.to_filter()
    found = search_mentions(workspace, search, filters=f, limit=PAGE_SIZE,
                            offset=(wanted - 1) * PAGE_SIZE, count=True)
    paginator: Paginator[Mention] = Paginator(_Counted(found.total or 0), PAGE_SIZE)  # type: ignore[arg-type]
    page = paginator.get_page(wanted)
    if page.number != wanted:  # past the last page: show the last one, as get_page does
        found = search_mentions(workspace, search, filters=f, limit=PAGE_SIZE,
                                offset=(page.number - 1) * PAGE_SIZE, count=False)
    by_id = _with_details(Mention.objects.filter(pk__in=found.ids)).in_bulk()
    mentions = [by_id[pk] for pk in found.ids if pk in by_id]
    for mention in mentions:
        mention.highlight = found.highlights.get(mention.pk)  # type: ignore[attr-defined]
    return page, mentions


@workspace_required
@require_GET
def mention_list(request: HttpRequest) -> HttpResponse:
    """Newest mentions first, filtered and paginated; ``?after=<id>`` is the live partial."""
    workspace = workspace_of(request)
    live_poll = "after" in request.GET
    form = MentionFilterForm(request.GET, workspace=workspace, with_choices=not live_poll)
    filtered = form.apply(Mention.objects.for_workspace(workspace))
    if live_poll:
        return _live_mentions(request, filtered)
    search = getattr(form, "cleaned_data", {}).get("q") or ""  # filled by form.apply
    if search:
        page, listed = _search_page(request, workspace, form, search)
    else:
        paginator = Paginator(_with_details(filtered).order_by("-published_at", "-id"), PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        listed = list(page.object_list)
    live = page.number == 1
    mentions = _group_by_story(_displayable(listed))
    # One query for both: the live cursor and the last day of the sentiment chart.
    newest = filtered.aggregate(latest=Max("id"), published=Max("published_at"))
    context = {
        "form": form,
        "page": page,
        "mentions": mentions,
        "total": page.paginator.count,
        "filters": filter_querystring(request),
        "live": live,
        # The highest id so far: the live partial asks for anything above it.
        "latest_id": (newest["latest"] or 0) if live else 0,
        "poll_seconds": POLL_SECONDS,
        "chart": _sentiment_chart(form, filtered, newest["published"]),
    }
    return render(request, "monitoring/mentions.html", context)


def _sentiment_chart(form: MentionFilterForm, filtered: QuerySet[Mention],
                     newest: datetime | None) -> SentimentChart | None:
    """Sentiment per day and languages over the filtered mentions' last days (one query)."""
    data = getattr(form, "cleaned_data", {})
    window = chart_window(data.get("date_from"), data.get("date_to"), newest)
    return sentiment_chart(filtered, *window) if window else None


def _group_by_story(mentions: list[Mention]) -> list[Mention]:
    """One row per story on the page: its newest member, with ``story_group`` attached.

    The story's other members are behind an expandable list (:func:`story_members`),
    so a story syndicated by 200 sites takes one row, not 200.
    """
    ids = {m.story_id for m in mentions if m.story_id is not None}
    groups = {s.pk: s for s in Story.objects.filter(pk__in=ids, mention_count__gt=1)}
    shown: list[Mention] = []
    seen: set[int] = set()
    for mention in mentions:
        story = groups.get(mention.story_id) if mention.story_id is not None else None
        if story is not None:
            if story.pk in seen:
                continue
            seen.add(story.pk)
        mention.story_group = story  # type: ignore[attr-defined]
        shown.append(mention)
    return shown


@workspace_required
@require_GET
def story_members(request: HttpRequest, pk: int) -> HttpResponse:
    """The other members of a story (the partial behind "+N similar"), newest first."""
    workspace = workspace_of(request)
    story = get_object_or_404(Story.objects.for_workspace(workspace), pk=pk)
    members = _with_details(
        Mention.objects.for_workspace(workspace).filter(story=story)
    ).order_by("-published_at", "-id")
    exclude = request.GET.get("exclude", "")
    if exclude.isdigit() and len(exclude) < 19:
        members = members.exclude(pk=int(exclude))
    shown = _displayable(list(members[: STORY_MEMBERS_SHOWN + 1]))
    context = {
        "story": story,
        "members": shown[:STORY_MEMBERS_SHOWN],
        "more": members.count() - STORY_MEMBERS_SHOWN if len(shown) > STORY_MEMBERS_SHOWN else 0,
    }
    return render(request, "monitoring/_story_members.html", context)


def _live_mentions(request: HttpRequest, filtered: QuerySet[Mention]) -> HttpResponse:
    """Mentions stored after ``after`` (an id), and a poller that continues from them."""
    try:
        after = int(request.GET["after"])
    except ValueError:
        return HttpResponseBadRequest(_("Invalid live-update cursor."))
    if after < 0:
        return HttpResponseBadRequest(_("Invalid live-update cursor."))
    fresh = list(_with_details(filtered.filter(id__gt=after)).order_by("-id")[:LIVE_LIMIT])
    if not fresh:
        # htmx leaves the page untouched on 204 and the poller keeps polling.
        return HttpResponse(status=204)
    fresh.sort(key=lambda m: (m.published_at, m.pk), reverse=True)
    context = {
        "mentions": _displayable(fresh),
        "filters": filter_querystring(request),
        "latest_id": max(m.pk for m in fresh),
        "poll_seconds": POLL_SECONDS,
    }
    return render(request, "monitoring/_mentions_live.html", context)


@workspace_required
@require_GET
def source_list(request: HttpRequest) -> HttpResponse:
    """Sources with health, polling times, last error and mention counts."""
    workspace = workspace_of(request)
    sources = (
        Source.objects.for_workspace(workspace)
        .select_related("watch")
        .annotate(mention_count=Count("mentions"))
        .order_by("name")
    )
    role = role_in(request.user, workspace)  # type: ignore[arg-type]
    context = {
        "sources": sources,
        "can_manage": role is not None and role.at_least(Role.MANAGER),
        "Health": Health,
    }
    return render(request, "monitoring/sources.html", context)


@workspace_required
@require_POST
def source_enabled(request: HttpRequest, pk: int) -> HttpResponse:
    """Enable (``enabled=1``) or disable (``enabled=0``) a source; managers and owners.

    Back to the sources list, or to the source's page when ``next=detail``.
    """
    workspace = workspace_of(request)
    source = get_object_or_404(Source.objects.for_workspace(workspace), pk=pk)
    try:
        require_role(request.user, workspace, Role.MANAGER)  # type: ignore[arg-type]
    except AccessDenied:
        raise PermissionDenied from None
    wanted = request.POST.get("enabled")
    if wanted not in {"0", "1"}:
        return HttpResponseBadRequest(_("Expected enabled=0 or enabled=1."))
    back = redirect("source_detail", source.pk) if request.POST.get("next") == "detail" else (
        redirect("sources"))
    enabled = wanted == "1"
    if not set_enabled(source, enabled, actor=request.user.get_username()):
        messages.info(request, _("Nothing to change: the source is already in that state."))
        return back
    if enabled:
        messages.success(request, _("Source “%(name)s” enabled.") % {"name": source.name})
    else:
        messages.success(request, _("Source “%(name)s” disabled.") % {"name": source.name})
    return back


@workspace_required
@require_GET
def watch_list(request: HttpRequest) -> HttpResponse:
    """Watches with their query, languages, mention count and state."""
    workspace = workspace_of(request)
    watches = (
        Watch.objects.for_workspace(workspace)
        .annotate(mention_count=Count("mentions"))
        .order_by("name")
    )
    role = role_in(request.user, workspace)  # type: ignore[arg-type]
    can_manage = role is not None and role.at_least(Role.MANAGER)
    context = {"watches": watches, "can_manage": can_manage}
    return render(request, "monitoring/watches.html", context)
