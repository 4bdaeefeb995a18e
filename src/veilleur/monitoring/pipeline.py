"""The ingestion pipeline: fetch from a connector, normalise, match, store.

The batch and the cursor that follows it are committed in one transaction, and
the commit only happens if the source's cursor is still the one the fetch
started from. A crash before the commit loses nothing (the next poll fetches the
same items again); a crash after it doubles nothing (the cursor moved with the
batch, and mentions are unique on source + external id).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from veilleur.analysis.nlp import Analysis
from veilleur.analysis.normalise import InvalidItem, NormalisedItem, normalise
from veilleur.connectors.base import JSON, Batch, RawItem, SourceError
from veilleur.connectors.registry import get_connector
from veilleur.connectors.secrets import open_config
from veilleur.monitoring import copies, stories
from veilleur.monitoring.health import next_state
from veilleur.monitoring.matching import link_new_mentions
from veilleur.monitoring.models import (
    Author,
    Health,
    Mention,
    MentionCopy,
    Source,
    SourceEvent,
)
from veilleur.sentiment import enrichment

log = logging.getLogger(__name__)
MAX_ERROR_CHARS = 2000


class StaleCursor(Exception):
    """Another poll committed this source's cursor first; this batch is dropped."""


@dataclass
class PollReport:
    source_id: int
    fetched: int = 0
    stored: int = 0
    skipped: int = 0  # already stored or counted (same source + external id)
    copies: int = 0  # exact duplicates of a stored mention: counted, not stored
    invalid: int = 0
    health: str = Health.OK
    error: str = ""
    more: bool = False
    invalid_reasons: list[str] = field(default_factory=list)


def poll_source(source_id: int, now: datetime | None = None) -> PollReport:
    """Fetch one batch from a source and store it; record health either way."""
    now = now or timezone.now()
    source = Source.objects.select_related("workspace").get(pk=source_id)
    report = PollReport(source_id=source_id, health=source.health)
    if source.health == Health.DISABLED:
        _release(source)
        report.error = "source is disabled"
        return report
    expected_version = source.cursor_version
    try:
        connector = get_connector(source.kind)
        batch = connector.fetch(open_config(connector.fields, source.config), source.cursor, now)
    except SourceError as exc:
        return _fail(source, report, str(exc), exc.permanent, exc.retry_after, now)
    except Exception as exc:
        # A connector bug must not kill the worker: record it as a transient failure.
        log.exception("connector %s crashed on source %s", source.kind, source.pk)
        return _fail(source, report, f"{type(exc).__name__}: {exc}", False, None, now)
    report.fetched = len(batch.items)
    report.more = batch.more
    try:
        store_batch(source, batch, expected_version, now, report, platform=connector.platform)
    except StaleCursor:
        report.error = "another poll stored this batch first"
    except Exception as exc:
        # Nothing was stored (the transaction rolled back). Back off like any failure
        # instead of keeping the lease or retrying at once in a loop.
        log.exception("storing a batch of source %s failed", source.pk)
        report.fetched = 0
        return _fail(source, report, f"storing failed: {type(exc).__name__}: {exc}", False,
                     None, now)
    return report


def store_batch(
    source: Source,
    batch: Batch,
    expected_version: int,
    now: datetime,
    report: PollReport | None = None,
    platform: str = "",
) -> PollReport:
    """Normalise and store a batch, and commit its cursor, atomically.

    Exact duplicates of a mention of the same source become copies of it; new
    mentions join the story of their near-duplicates (docs/stories.md).
    """
    report = report or PollReport(source_id=source.pk)
    items = _normalise_all(batch.items, now, report)
    # Models run before the transaction (they take milliseconds per text; the write
    # lock should not wait on them). Items found stored meanwhile are simply dropped.
    analyses = _enrich(source, _new_items(source, items))
    with transaction.atomic():
        _commit_cursor(source, batch.cursor, expected_version, now, batch)
        new = _new_items(source, items)
        report.skipped += len(items) - len(new)
        if new:
            authors = _upsert_authors(source, new, platform)
            plan = copies.plan_copies(source, new)
            grouping = stories.plan_stories(source.workspace_id, plan.originals, plan.signatures)
            mentions = _create_mentions(source, plan, grouping, authors, platform, now,
                                        analyses)
            new_copies = copies.record_copies(
                source, plan, mentions,
                lambda item: authors.get((item.platform or platform, item.author_handle)), now,
            )
            _match_watches(source, mentions, platform)
            stories.finish_stories(grouping, mentions, new_copies)
            report.stored += len(mentions)
            report.copies += plan.copy_count
    source.refresh_from_db()
    report.health = source.health
    return report


def _normalise_all(
    items: Sequence[RawItem], now: datetime, report: PollReport
) -> list[NormalisedItem]:
    out: dict[str, NormalisedItem] = {}
    for raw in items:
        try:
            item = normalise(raw, now)
        except InvalidItem as exc:
            report.invalid += 1
            if len(report.invalid_reasons) < 20:
                report.invalid_reasons.append(str(exc))
            continue
        # Within one batch the first copy of an id wins, as it would across batches.
        out.setdefault(item.external_id, item)
    return list(out.values())


def _commit_cursor(
    source: Source, cursor: JSON, expected_version: int, now: datetime, batch: Batch
) -> None:
    """Move the cursor and mark success, only if nobody else moved it meanwhile."""
    delay = next_state(
        source.health if source.health != Health.DISABLED else Health.OK,
        "success",
        0,
        source.poll_interval,
        batch.hint.retry_after,
    ).delay
    next_poll = now if batch.more else now + timedelta(seconds=delay)
    updated = Source.objects.filter(pk=source.pk, cursor_version=expected_version).update(
        cursor=cursor,
        cursor_version=F("cursor_version") + 1,
        health=Health.OK,
        last_error="",
        consecutive_failures=0,
        last_polled_at=now,
        last_success_at=now,
        next_poll_at=next_poll,
        lease_until=None,
    )
    if not updated:
        raise StaleCursor(source.pk)
    if source.health != Health.OK:
        SourceEvent.objects.create(
            source=source, at=now, from_health=source.health, to_health=Health.OK
        )


def _new_items(source: Source, items: list[NormalisedItem]) -> list[NormalisedItem]:
    """Items whose id this source has neither stored nor counted as a copy."""
    ids = [item.external_id for item in items]
    known: set[str] = set()
    for start in range(0, len(ids), 500):  # keep under SQLite's variable limit
        chunk = ids[start : start + 500]
        for model in (Mention, MentionCopy):
            known.update(
                model.objects.filter(source=source, external_id__in=chunk)  # type: ignore[attr-defined]
                .values_list("external_id", flat=True)
            )
    return [item for item in items if item.external_id not in known]


def _upsert_authors(
    source: Source, items: list[NormalisedItem], default_platform: str
) -> dict[tuple[str, str], Author]:
    """Create missing authors and refresh their reach; return them by (platform, handle)."""
    wanted: dict[tuple[str, str], NormalisedItem] = {}
    for item in items:
        if item.author_handle:
            wanted[(item.platform or default_platform, item.author_handle)] = item
    if not wanted:
        return {}
    existing: dict[tuple[str, str], Author] = {}
    handles = sorted({handle for _, handle in wanted})
    for start in range(0, len(handles), 500):
        for author in Author.objects.filter(
            workspace_id=source.workspace_id, handle__in=handles[start : start + 500]
        ):
            existing[(author.platform, author.handle)] = author
    to_create: list[Author] = []
    to_update: list[Author] = []
    for key, item in wanted.items():
        known = existing.get(key)
        if known is None:
            to_create.append(
                Author(
                    workspace_id=source.workspace_id,
                    platform=key[0],
                    handle=key[1],
                    display_name=item.author_name,
                    followers=item.author_followers,
                    verified=item.author_verified,
                    url=item.author_url,
                )
            )
        elif item.author_followers is not None and known.followers != item.author_followers:
            known.followers = item.author_followers
            known.verified = known.verified or item.author_verified
            to_update.append(known)
    if to_create:
        Author.objects.bulk_create(to_create, batch_size=500)
        for author in to_create:
            existing[(author.platform, author.handle)] = author
    if to_update:
        Author.objects.bulk_update(to_update, ["followers", "verified"], batch_size=500)
    return existing


def _create_mentions(
    source: Source,
    plan: copies.CopyPlan,
    grouping: stories.StoryPlan,
    authors: dict[tuple[str, str], Author],
    platform: str,
    now: datetime,
    analyses: dict[str, Analysis],
) -> list[Mention]:
    mentions = []
    for item in plan.originals:
        author = authors.get((item.platform or platform, item.author_handle))
        reach = item.reach if item.reach is not None else item.author_followers
        mention = Mention(
            workspace_id=source.workspace_id,
            source=source,
            external_id=item.external_id,
            url=item.url,
            author=author,
            title=item.title,
            text=item.text,
            lang=item.lang_hint,
            published_at=item.published_at,
            fetched_at=now,
            reach=reach,
            content_hash=item.content_hash,
            canonical_url=plan.urls[item.external_id],
            signature=plan.signatures[item.external_id],
            story_id=grouping.story_of.get(item.external_id),
            extra=item.extra,
        )
        analysis = analyses.get(item.external_id)
        if analysis is not None:
            enrichment.apply(mention, analysis)
        mentions.append(mention)
    return Mention.objects.bulk_create(mentions, batch_size=500)


def analysis_text(title: str, text: str) -> str:
    """What sentiment is read from: the title too, unless the text already starts with it."""
    if title and not text.startswith(title):
        return f"{title}\n{text}"
    return text


def _enrich(source: Source, items: list[NormalisedItem]) -> dict[str, Analysis]:
    if not items:
        return {}
    analyses = enrichment.safe_analyze(
        source.workspace_id,
        source.workspace.languages,
        [analysis_text(item.title, item.text) for item in items],
        [item.lang_hint for item in items],
    )
    if analyses is None:
        return {}
    return {item.external_id: a for item, a in zip(items, analyses, strict=True)}


def _match_watches(source: Source, mentions: list[Mention], platform: str = "") -> None:
    if source.watch_id is None:
        link_new_mentions(source.workspace_id, mentions, platform)
        return
    through = Mention.watches.through
    links = [through(mention_id=m.pk, watch_id=source.watch_id) for m in mentions]
    through.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)


def _fail(
    source: Source,
    report: PollReport,
    message: str,
    permanent: bool,
    retry_after: float | None,
    now: datetime,
) -> PollReport:
    """Record a failed poll: health transition, backoff, event."""
    message = message[:MAX_ERROR_CHARS]
    outcome = next_state(
        source.health,
        "permanent" if permanent else "transient",
        source.consecutive_failures,
        source.poll_interval,
        retry_after,
    )
    with transaction.atomic():
        Source.objects.filter(pk=source.pk).update(
            health=outcome.health,
            last_error=message,
            consecutive_failures=outcome.failures,
            last_polled_at=now,
            next_poll_at=now + timedelta(seconds=outcome.delay),
            lease_until=None,
        )
        if outcome.health != source.health:
            SourceEvent.objects.create(
                source=source,
                at=now,
                from_health=source.health,
                to_health=outcome.health,
                error=message,
            )
    report.health = outcome.health
    report.error = message
    log.warning("source %s (%s) failed: %s", source.pk, source.kind, message)
    return report


def _release(source: Source) -> None:
    Source.objects.filter(pk=source.pk).update(lease_until=None)
