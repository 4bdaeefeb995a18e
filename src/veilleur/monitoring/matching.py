"""Which watches a mention belongs to: the query language applied to stored mentions.

One :class:`WatchMatcher` per workspace matches a mention against every active watch
at once (the mention is tokenised once; a prefilter skips queries that cannot
match). The pipeline links new mentions here; the watch editor previews a query and
re-matches recent mentions when a query changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import transaction

from veilleur.accounts.models import Workspace
from veilleur.analysis.query import MentionDoc, Query, QuerySyntaxError, WatchMatcher, compile_query
from veilleur.monitoring.models import Mention, Watch

log = logging.getLogger(__name__)
# A changed query is applied to this much history, newest first.
REMATCH_DAYS = 30
REMATCH_LIMIT = 50_000


def mention_doc(mention: Mention, platform: str = "") -> MentionDoc:
    """What a query sees of a mention: text, title and its field values."""
    author = mention.author
    try:
        host = urlsplit(mention.url).hostname or ""
    except ValueError:
        host = ""
    country = mention.extra.get("country") if isinstance(mention.extra, dict) else None
    return MentionDoc(
        text=mention.text,
        title=mention.title,
        lang=mention.lang,
        source=(author.platform if author is not None else "") or platform,
        author=author.handle if author is not None else "",
        site=host,
        country=country if isinstance(country, str) else "",
        followers=author.followers if author is not None else None,
    )


def compiled_watches(watches: Iterable[Watch]) -> dict[int, tuple[Watch, Query]]:
    """Watches by id with their compiled query; a broken query is logged and skipped."""
    out = {}
    for watch in watches:
        try:
            out[watch.pk] = (watch, compile_query(watch.query))
        except QuerySyntaxError as exc:
            log.warning("watch %s has an invalid query: %s", watch.pk, exc)
    return out


def _language_ok(watch: Watch, mention: Mention) -> bool:
    return not watch.languages or not mention.lang or mention.lang in watch.languages


def matching_watch_ids(
    mentions: Sequence[Mention], watches: dict[int, tuple[Watch, Query]], platform: str = ""
) -> list[tuple[int, int]]:
    """(mention id, watch id) pairs for every mention that a watch's query matches."""
    matcher = WatchMatcher({pk: query for pk, (_watch, query) in watches.items()})
    pairs = []
    for mention in mentions:
        for watch_id in matcher.match(mention_doc(mention, platform)):
            if _language_ok(watches[watch_id][0], mention):
                pairs.append((mention.pk, watch_id))
    return pairs


def link_new_mentions(
    workspace_id: int, mentions: Sequence[Mention], platform: str = ""
) -> None:
    """Link freshly stored mentions to the workspace's active watches that match them."""
    watches = compiled_watches(Watch.objects.filter(workspace_id=workspace_id, is_active=True))
    if not watches:
        return
    through = Mention.watches.through
    links = [
        through(mention_id=m, watch_id=w)
        for m, w in matching_watch_ids(mentions, watches, platform)
    ]
    through.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)


def preview(workspace: Workspace, query: Query, limit: int = 500) -> tuple[int, list[Mention]]:
    """Among the workspace's ``limit`` newest mentions, how many match, and the matches."""
    recent = list(
        Mention.objects.for_workspace(workspace)
        .select_related("author", "source")
        .order_by("-published_at", "-id")[:limit]
    )
    matched = [m for m in recent if query.matches(mention_doc(m, m.source.kind))]
    return len(recent), matched


@transaction.atomic
def rematch_watch(watch: Watch, now: datetime) -> int:
    """Apply the watch's current query to its workspace's recent mentions; return matches.

    Links of mentions that no longer match are removed, new matches are linked. Older
    mentions keep their links: history is not rewritten beyond the window.
    """
    try:
        query = compile_query(watch.query)
    except QuerySyntaxError:
        return 0
    recent = list(
        Mention.objects.for_workspace(watch.workspace)
        .filter(published_at__gte=now - timedelta(days=REMATCH_DAYS))
        .select_related("author", "source")
        .order_by("-published_at")[:REMATCH_LIMIT]
    )
    through = Mention.watches.through
    matched = {
        m.pk for m in recent
        if _language_ok(watch, m) and query.matches(mention_doc(m, m.source.kind))
    }
    window = [m.pk for m in recent]
    for start in range(0, len(window), 500):
        chunk = window[start : start + 500]
        through.objects.filter(watch_id=watch.pk, mention_id__in=chunk).exclude(
            mention_id__in=[pk for pk in chunk if pk in matched]
        ).delete()
    if watch.is_active:
        through.objects.bulk_create(
            [through(mention_id=pk, watch_id=watch.pk) for pk in matched],
            batch_size=1000, ignore_conflicts=True,
        )
    return len(matched) if watch.is_active else 0
