"""The watch editor: create and edit watches, with the query checked while typing.

The check (an HTMX partial) validates the query, shows where a mistake is, and
previews which of the workspace's latest mentions it would match, with the
matching terms highlighted. Saving re-applies the query to recent mentions.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from veilleur.accounts.models import Role
from veilleur.accounts.services import AccessDenied, require_role
from veilleur.analysis.query import MAX_QUERY_CHARS, QuerySyntaxError, Span, compile_query
from veilleur.monitoring.matching import mention_doc, preview
from veilleur.monitoring.models import Mention, Watch
from veilleur.monitoring.tasks import rematch_watch_task
from veilleur.monitoring.views import workspace_of, workspace_required
from veilleur.monitoring.watch_forms import WatchForm, query_error_message
from veilleur.search.highlight import merge_spans
from veilleur.search.highlight import render as render_snippet

PREVIEW_SCAN = 500  # newest mentions the preview looks at
PREVIEW_SHOWN = 20
SNIPPET_CHARS = 320


def _require_manager(request: HttpRequest) -> None:
    try:
        require_role(request.user, workspace_of(request), Role.MANAGER)  # type: ignore[arg-type]
    except AccessDenied:
        raise PermissionDenied from None


@workspace_required
@require_http_methods(["GET", "POST"])
def watch_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create (no ``pk``) or edit a watch; managers and owners only."""
    workspace = workspace_of(request)
    watch = get_object_or_404(Watch.objects.for_workspace(workspace), pk=pk) if pk else None
    _require_manager(request)
    form = WatchForm(request.POST or None, instance=watch, workspace=workspace)
    if request.method == "POST" and form.is_valid():
        query_changed = watch is None or "query" in form.changed_data or (
            "languages" in form.changed_data or "is_active" in form.changed_data
        )
        saved = form.save()
        if query_changed:
            rematch_watch_task.enqueue(saved.pk)
        messages.success(request, _("Watch “%(name)s” saved.") % {"name": saved.name})
        return redirect("watches")
    return render(request, "monitoring/watch_form.html", {"form": form, "watch": watch,
                                                          "max_query_chars": MAX_QUERY_CHARS})


@dataclass
class PreviewRow:
    mention: Mention
    snippet: SafeString


def _text_spans(spans: list[Span]) -> list[tuple[int, int]]:
    return [(span.start, span.end) for span in spans if span.field == "text"]


@workspace_required
@require_POST
def watch_check(request: HttpRequest) -> HttpResponse:
    """HTMX partial: is the query valid, and what would it match among recent mentions?"""
    workspace = workspace_of(request)
    _require_manager(request)
    source = request.POST.get("query", "")[: MAX_QUERY_CHARS + 1].strip()
    context: dict[str, object] = {"query_text": source}
    if not source:
        return render(request, "monitoring/_query_check.html", context)
    try:
        query = compile_query(source)
    except QuerySyntaxError as exc:
        position = min(max(exc.position, 0), len(source))
        context.update(error=query_error_message(exc), before=source[:position],
                       at=source[position : position + 1] or " ", after=source[position + 1 :])
        return render(request, "monitoring/_query_check.html", context)
    scanned, matched = preview(workspace, query, PREVIEW_SCAN)
    rows = []
    for mention in matched[:PREVIEW_SHOWN]:
        spans = []
        for term in query.explain(mention_doc(mention, mention.source.kind)).terms:
            if term.matched and not term.negated:
                spans.extend(_text_spans(list(term.spans)))
        snippet = render_snippet(mention.text, merge_spans(spans), SNIPPET_CHARS)
        rows.append(PreviewRow(mention, snippet))
    context.update(valid=True, canonical=query.canonical(), scanned=scanned,
                   matched=len(matched), rows=rows)
    return render(request, "monitoring/_query_check.html", context)
