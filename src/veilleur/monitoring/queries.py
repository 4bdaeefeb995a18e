"""Read-side helpers shared by the API (and reusable by the web UI and the CLI).

Every function takes the workspace explicitly and starts from ``for_workspace``,
so no caller can read another workspace's rows by forgetting a filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Count, QuerySet
from django.utils import timezone

from veilleur.accounts.models import Workspace
from veilleur.monitoring.models import Mention, Source, Watch
from veilleur.search.backends import restrict as full_text_matches

# A text search longer than this is almost certainly not typed by a person; it
# would only make the full-text query slower.
MAX_SEARCH_CHARS = 200
MASK = "***"


@dataclass(frozen=True)
class MentionFilter:
    """What a mention list may be narrowed by; empty fields do not filter.

    ``since`` is inclusive and ``until`` exclusive, both on ``published_at``, so
    consecutive windows never count a mention twice. ``after_id`` keeps mentions
    stored after the one with that id and switches to oldest-first by id, which
    is what a polling client needs to walk forward without gaps.
    """

    watch_id: int | None = None
    source_id: int | None = None
    lang: str = ""
    sentiment: str = ""
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""
    after_id: int | None = None


def _aware(moment: datetime) -> datetime:
    # A naive datetime from a query string is read as UTC, never as server time.
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


def filter_mentions(mentions: QuerySet[Mention], f: MentionFilter) -> QuerySet[Mention]:
    """Narrow ``mentions`` by every non-empty field of ``f`` (ordering left as is)."""
    if f.watch_id is not None:
        mentions = mentions.filter(watches__id=f.watch_id)
    if f.source_id is not None:
        mentions = mentions.filter(source_id=f.source_id)
    if f.lang:
        mentions = mentions.filter(lang=f.lang.lower())
    if f.sentiment:
        mentions = mentions.filter(sentiment=f.sentiment)
    if f.since is not None:
        mentions = mentions.filter(published_at__gte=_aware(f.since))
    if f.until is not None:
        mentions = mentions.filter(published_at__lt=_aware(f.until))
    text = f.text.strip()[:MAX_SEARCH_CHARS]
    if text:
        # Full-text search (veilleur.search): whole words in any case and accents,
        # "phrases", prefix*, -exclusions; title and text. See docs/search.md.
        mentions = full_text_matches(mentions, text)
    if f.after_id is not None:
        mentions = mentions.filter(pk__gt=f.after_id)
    return mentions


def mentions_in(workspace: Workspace, filters: MentionFilter | None = None) -> QuerySet[Mention]:
    """The workspace's mentions matching ``filters``, newest first (see MentionFilter)."""
    f = filters or MentionFilter()
    qs = filter_mentions(Mention.objects.for_workspace(workspace), f)
    qs = qs.select_related("author", "story").prefetch_related("watches")
    if f.after_id is not None:
        return qs.order_by("pk")
    return qs.order_by("-published_at", "-pk")


def sources_in(workspace: Workspace) -> QuerySet[Source]:
    """The workspace's sources by name, each annotated with ``mention_count``."""
    return (
        Source.objects.for_workspace(workspace)
        .annotate(mention_count=Count("mentions", distinct=True))
        .order_by("name", "pk")
    )


def watches_in(workspace: Workspace) -> QuerySet[Watch]:
    """The workspace's watches by name, each annotated with ``mention_count``."""
    return (
        Watch.objects.for_workspace(workspace)
        .annotate(mention_count=Count("mentions", distinct=True))
        .order_by("name", "pk")
    )


