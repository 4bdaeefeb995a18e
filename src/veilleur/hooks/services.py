"""Inbound webhook services: accept a delivery, read deliveries, show/rotate the secret.

Views and the webhook connector call these; nothing else writes ``WebhookDelivery``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse

from veilleur.connectors.registry import get_connector
from veilleur.connectors.secrets import open_config, seal_config
from veilleur.hooks.models import WebhookDelivery
from veilleur.monitoring.models import Source

# Accepted but not yet read by a poll: past this the endpoint answers 429, so a
# stopped scheduler or a failing source cannot fill the database.
MAX_PENDING_DELIVERIES = 1000
# Read deliveries stay this long for inspection; never shorter than the signature
# window, or a replayed delivery id could be accepted again.
DEFAULT_KEEP = timedelta(days=7)
MIN_KEEP = timedelta(hours=1)


def new_secret() -> str:
    """A fresh signing secret (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def new_path_token() -> str:
    """A fresh URL token: the endpoint's address is not guessable from the source id."""
    return secrets.token_urlsafe(24)


def endpoint_path(source: Source) -> str:
    """The path senders POST to, e.g. ``/hooks/12/3q2-...``."""
    token = str(source.config.get("path_token", ""))
    return reverse("hooks:delivery", kwargs={"source_id": source.pk, "token": token})


def endpoint_url(source: Source) -> str:
    """The absolute address when ``VEILLEUR_BASE_URL`` is set, else the path."""
    base = str(getattr(settings, "BASE_URL", "") or "").rstrip("/")
    return base + endpoint_path(source)


def reveal_secret(source: Source) -> str:
    """The signing secret in clear, for the source page to show its creator once.

    Never log it or put it in a URL. A secret that was lost is replaced with
    ``rotate_secret``, not shown again.
    """
    fields = get_connector("webhook").fields
    return str(open_config(fields, source.config).get("secret", ""))


def rotate_secret(source: Source) -> str:
    """Replace the signing secret (the old one stops working at once); return the new one."""
    fields = get_connector("webhook").fields
    secret = new_secret()
    source.config = seal_config(fields, {**source.config, "secret": secret})
    source.save(update_fields=["config"])
    return secret


@dataclass(frozen=True)
class Accepted:
    delivery: WebhookDelivery | None
    accepted: int
    duplicate: bool = False


def pending_deliveries(source: Source) -> int:
    """Accepted deliveries the source's cursor has not passed yet."""
    return WebhookDelivery.objects.filter(
        source=source, pk__gt=cursor_position(source.cursor)
    ).count()


@transaction.atomic
def accept_delivery(
    source: Source,
    items: Sequence[dict[str, Any]],
    delivery_id: str,
    signed_at: datetime,
    now: datetime,
    signature: str = "",
) -> Accepted:
    """Store a validated delivery and ask the scheduler to poll the source at once.

    The row is committed before the caller answers 202, so an accepted item is
    never lost. A delivery id or a signature seen before stores nothing
    (``duplicate``).
    """
    # One delivery of a source at a time: the source's row stays locked until the
    # commit, so a source's delivery ids grow in commit order. Without it PostgreSQL
    # could commit a delivery with a smaller id after a poll had read a larger one
    # and moved the cursor past it: that delivery would never be read.
    list(Source.objects.select_for_update().filter(pk=source.pk).values_list("pk"))
    seen = Q(delivery_id=delivery_id)
    if signature:
        seen |= Q(signature=signature)
    if WebhookDelivery.objects.filter(seen, source=source).exists():
        return Accepted(None, 0, duplicate=True)
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin must not spoil ours
            delivery = WebhookDelivery.objects.create(
                source=source, delivery_id=delivery_id, signature=signature,
                received_at=now, signed_at=signed_at, items=list(items),
                item_count=len(items),
            )
    except IntegrityError:
        return Accepted(None, 0, duplicate=True)
    # Poll now rather than at the next interval. A poll already running may push
    # next_poll_at back to its interval when it commits; the items then wait for it.
    Source.objects.filter(pk=source.pk, next_poll_at__gt=now).update(next_poll_at=now)
    return Accepted(delivery, len(items))


def cursor_position(cursor: Any) -> int:
    """The last delivery id a webhook source's cursor has passed (0 when none)."""
    if isinstance(cursor, dict):
        value = cursor.get("delivery", 0)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 0


def source_for_token(token: str) -> int | None:
    """The id of the webhook source whose config holds ``token``.

    Raises LookupError when several do (a token copied from one source to another):
    reading either one's deliveries for the other must not happen.
    """
    ids = list(
        Source.objects.filter(kind="webhook", config__path_token=token)
        .order_by("pk").values_list("pk", flat=True)[:2]
    )
    if len(ids) > 1:
        raise LookupError(token)
    return ids[0] if ids else None


def deliveries_after(
    source_id: int, after: int, *, max_deliveries: int, max_items: int
) -> tuple[list[WebhookDelivery], bool]:
    """Deliveries past ``after`` in id order, bounded; and whether more are waiting.

    At least one delivery is returned when any waits, even one larger than
    ``max_items`` (a delivery holds at most ``payload.MAX_ITEMS``).
    """
    rows = list(
        WebhookDelivery.objects.filter(source_id=source_id, pk__gt=after)
        .order_by("pk")[: max_deliveries + 1]
    )
    taken: list[WebhookDelivery] = []
    count = 0
    for row in rows[:max_deliveries]:
        if taken and count + row.item_count > max_items:
            break
        taken.append(row)
        count += row.item_count
    return taken, len(taken) < len(rows)


def purge_consumed(now: datetime, keep: timedelta = DEFAULT_KEEP) -> int:
    """Delete deliveries older than ``keep`` that their source's cursor has passed.

    Deliveries not read yet are never deleted, however old. Returns the number
    deleted. Meant for a periodic job (e.g. the scheduler pass, daily).
    """
    cutoff = now - max(keep, MIN_KEEP)
    deleted = 0
    for source_id, cursor in Source.objects.filter(kind="webhook").values_list("pk", "cursor"):
        position = cursor_position(cursor)
        if position:
            count, _ = WebhookDelivery.objects.filter(
                source_id=source_id, pk__lte=position, received_at__lt=cutoff
            ).delete()
            deleted += count
    return deleted
