"""Exact duplicates in one source: stored once, counted as copies (docs/stories.md).

:func:`plan_copies` splits a batch's new items into originals to store and copies:
same source, same canonical URL (confirmed by the title or the text) or same content
hash, published within the story window of each other. :func:`record_copies` keeps
each copy as a :class:`MentionCopy` row (its external id, author and time) and bumps
``Mention.copies``. Because the copy's external id is kept, fetching the same item
again is skipped like any stored item: a copy is counted once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import F

from veilleur.analysis.dedup import canonical_url
from veilleur.analysis.minhash import similarity
from veilleur.analysis.normalise import NormalisedItem
from veilleur.analysis.text import content_hash, fold
from veilleur.monitoring.models import Author, Mention, MentionCopy, Source
from veilleur.monitoring.stories import PARAMS, story_window
from veilleur.monitoring.story_counts import chunks

# Texts without words (emoji only) all hash alike: that is no evidence of a copy.
_EMPTY_HASH = content_hash("")


def _hash_key(item: NormalisedItem, signature: bytes | None) -> str:
    """The content hash as a copy key, or "" when the text is too short to be one.

    Fifty people replying "@acme thanks!" wrote fifty mentions, each maybe worth an
    answer, not one mention copied fifty times. Texts too short for a signature
    (``DedupParams.min_words``) are therefore never copies by their text.
    """
    if signature is None or item.content_hash == _EMPTY_HASH:
        return ""
    return item.content_hash


# --- copies --------------------------------------------------------------------------------


@dataclass
class CopyPlan:
    """What to store and what to count: the result of :func:`plan_copies`."""

    originals: list[NormalisedItem] = field(default_factory=list)
    # Copies of mentions already stored (by mention id) or of originals in this batch
    # (by external id).
    of_stored: dict[int, list[NormalisedItem]] = field(default_factory=dict)
    of_new: dict[str, list[NormalisedItem]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)  # external id -> canonical URL
    signatures: dict[str, bytes | None] = field(default_factory=dict)

    @property
    def copy_count(self) -> int:
        return sum(map(len, self.of_stored.values())) + sum(map(len, self.of_new.values()))


@dataclass(frozen=True)
class _Known:
    """A possible original: a stored mention or an earlier item of the batch."""

    ref: int | str  # mention id, or external id of a batch item
    published_at: datetime
    title: str
    signature: bytes | memoryview | None


def _same_page(item_title: str, item_signature: bytes | None, known: _Known) -> bool:
    # The same URL alone is not enough: a review page or a forum thread holds many
    # items under one URL. Copies of one article share its title or its text.
    if item_title and fold(item_title) == fold(known.title):
        return True
    first = PARAMS.hasher.from_bytes(item_signature)
    second = PARAMS.hasher.from_bytes(known.signature)
    return (
        first is not None and second is not None
        and similarity(first, second) >= PARAMS.threshold
    )


def plan_copies(
    source: Source, items: list[NormalisedItem], window: timedelta | None = None
) -> CopyPlan:
    """Split new items into originals and copies (same source, within ``window``)."""
    window = window or story_window()
    plan = CopyPlan()
    signatures = PARAMS.signatures_bytes((item.text, item.title) for item in items)
    for item, signature in zip(items, signatures, strict=True):
        plan.urls[item.external_id] = canonical_url(item.url)
        plan.signatures[item.external_id] = signature
    if not items:
        return plan
    by_hash, by_url = _stored_candidates(source, items, plan, window)
    for item in sorted(items, key=lambda i: i.published_at):
        url = plan.urls[item.external_id]
        signature = plan.signatures[item.external_id]
        key = _hash_key(item, signature)
        found = list(by_hash.get(key, [])) if key else []
        found += [k for k in by_url.get(url, []) if url and _same_page(item.title, signature, k)]
        found = [k for k in found if abs(k.published_at - item.published_at) <= window]
        if not found:
            plan.originals.append(item)
            known = _Known(item.external_id, item.published_at, item.title, signature)
            if key:
                by_hash.setdefault(key, []).append(known)
            if url:
                by_url.setdefault(url, []).append(known)
            continue
        # The nearest in time: a copy made today belongs to today's post.
        nearest = min(found, key=lambda k: abs(k.published_at - item.published_at))
        if isinstance(nearest.ref, int):
            plan.of_stored.setdefault(nearest.ref, []).append(item)
        else:
            plan.of_new.setdefault(nearest.ref, []).append(item)
    return plan


def _stored_candidates(
    source: Source, items: list[NormalisedItem], plan: CopyPlan, window: timedelta
) -> tuple[dict[str, list[_Known]], dict[str, list[_Known]]]:
    """Stored mentions of ``source`` sharing a content hash or canonical URL with items."""
    earliest = min(i.published_at for i in items) - window
    latest = max(i.published_at for i in items) + window
    recent = Mention.objects.filter(
        source=source, published_at__gte=earliest, published_at__lte=latest
    )
    hashes = sorted(
        {_hash_key(i, plan.signatures[i.external_id]) for i in items} - {""}
    )
    wanted_urls = sorted({u for u in plan.urls.values() if u})
    by_hash: dict[str, list[_Known]] = defaultdict(list)
    by_url: dict[str, list[_Known]] = defaultdict(list)
    for chunk in chunks(hashes):
        for pk, published_at, hash_ in recent.filter(content_hash__in=chunk).values_list(
            "pk", "published_at", "content_hash"
        ):
            by_hash[hash_].append(_Known(pk, published_at, "", None))
    # Only a URL match needs the title and signature, to confirm it.
    for chunk in chunks(wanted_urls):
        for pk, published_at, title, signature, url in recent.filter(
            canonical_url__in=chunk
        ).values_list("pk", "published_at", "title", "signature", "canonical_url"):
            by_url[url].append(_Known(pk, published_at, title, signature))
    return by_hash, by_url


def record_copies(
    source: Source,
    plan: CopyPlan,
    stored: list[Mention],
    author_of: Callable[[NormalisedItem], Author | None],
    now: datetime,
) -> list[MentionCopy]:
    """Store the plan's copies and bump ``copies``; returns the copies stored."""
    by_external = {m.external_id: m.pk for m in stored}
    targets: dict[int, list[NormalisedItem]] = defaultdict(list)
    for pk, items in plan.of_stored.items():
        targets[pk].extend(items)
    for external_id, items in plan.of_new.items():
        targets[by_external[external_id]].extend(items)
    if not targets:
        return []
    created = MentionCopy.objects.bulk_create(
        [
            MentionCopy(
                mention_id=pk, source=source, external_id=item.external_id,
                author=author_of(item), published_at=item.published_at, fetched_at=now,
            )
            for pk, items in targets.items()
            for item in items
        ],
        batch_size=500,
    )
    by_increment: dict[int, list[int]] = defaultdict(list)
    for pk, items in targets.items():
        by_increment[len(items)].append(pk)
    for increment, pks in by_increment.items():
        for chunk in chunks(pks):
            Mention.objects.filter(pk__in=chunk).update(copies=F("copies") + increment)
    return created
