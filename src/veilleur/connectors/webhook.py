"""The webhook connector: items pushed to Veilleur's signed endpoint (docs/sources/webhook.md).

Anything that can send an HTTP POST (Zapier, n8n, a partner's system) pushes JSON
to ``/hooks/<source id>/<path_token>``, signed with HMAC-SHA256 and the source's
secret (``veilleur.hooks``). The endpoint validates the items and stores them as a
``WebhookDelivery`` before answering 202; this connector's ``fetch`` then reads the
deliveries past its cursor and hands them to the pipeline like any other source.

This is the one connector that reads the database, and only reads it: the pushed
items have to wait somewhere between the request and the poll. Writing stays with
the endpoint (deliveries) and the pipeline (mentions and the cursor, in one
transaction), so an accepted item is stored exactly once.

Config: ``secret`` (generated when missing; encrypted at rest; shown to the creator
with ``veilleur.hooks.services.reveal_secret``) and ``path_token`` (generated when
missing; part of the URL so that source ids cannot be probed).
Cursor: ``{"delivery": <id of the last delivery read>}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from veilleur.connectors.base import (
    JSON,
    Batch,
    ConfigField,
    RawItem,
    SourceError,
)
from veilleur.connectors.fields import clean_fields, invalid

MAX_DELIVERIES_PER_FETCH = 50
MAX_ITEMS_PER_FETCH = 1000
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{24,128}$")
_SECRET_MIN = 24


class WebhookConnector:
    kind = "webhook"
    platform = "webhook"
    label = _("Webhook (JSON pushed to Veilleur)")
    fields = (
        ConfigField(
            "secret", _("Signing secret"), type="secret",
            help=_("Signs every request (HMAC-SHA256). Leave blank to generate one; it is "
                   "shown once, when the source is created."),
        ),
        ConfigField(
            "path_token", _("URL token"),
            help=_("The random part of the endpoint's address. Leave blank to generate "
                   "one; clear it to get a new address."),
        ),
    )

    def validate_config(self, config: Mapping[str, JSON]) -> dict[str, JSON]:
        from veilleur.hooks.services import new_path_token, new_secret

        clean = clean_fields(self.fields, config)
        secret = str(clean.get("secret") or "")
        if not secret:
            clean["secret"] = new_secret()
        elif len(secret) < _SECRET_MIN:
            raise invalid(
                "secret", gettext("at least %(limit)s characters (leave blank to generate one)"),
                limit=_SECRET_MIN)
        token = str(clean.get("path_token") or "")
        if not token:
            clean["path_token"] = new_path_token()
        elif not _TOKEN.match(token):
            raise invalid("path_token", gettext(
                "24 to 128 letters, digits, '-' or '_' (leave blank to generate one)"))
        return clean

    def fetch(self, config: Mapping[str, JSON], cursor: JSON, now: datetime) -> Batch:
        from veilleur.hooks.services import cursor_position, deliveries_after, source_for_token

        token = str(config.get("path_token") or "")
        position = cursor_position(cursor)
        try:
            source_id = source_for_token(token) if token else None
        except LookupError:
            raise SourceError(
                "several webhook sources share this URL token, so their deliveries cannot "
                "be told apart: clear path_token in this source's settings to get a new "
                "address", permanent=True) from None
        if source_id is None:  # not saved yet (a dry run before creation)
            return Batch(items=[], cursor={"delivery": position})
        deliveries, more = deliveries_after(
            source_id, position,
            max_deliveries=MAX_DELIVERIES_PER_FETCH, max_items=MAX_ITEMS_PER_FETCH,
        )
        items: list[RawItem] = []
        for delivery in deliveries:
            items.extend(raw_item(item) for item in delivery.items if isinstance(item, dict))
            position = max(position, delivery.pk)
        return Batch(items=items, cursor={"delivery": position}, more=more)


def raw_item(item: Mapping[str, Any]) -> RawItem:
    """A stored (validated, see ``veilleur.hooks.payload``) item as a RawItem."""
    published = item.get("published_at")
    extra: dict[str, JSON] = {
        key: item[key] for key in ("thread_id", "parent_id", "rating") if key in item
    }
    followers = item.get("followers")
    return RawItem(
        external_id=str(item.get("id", "")),
        text=str(item.get("text", "")),
        title=str(item.get("title", "")),
        url=str(item.get("url", "")),
        published_at=datetime.fromisoformat(published) if isinstance(published, str) else None,
        author_handle=str(item.get("author", "")),
        author_name=str(item.get("author_name", "")),
        author_url=str(item.get("author_url", "")),
        author_followers=followers if isinstance(followers, int) else None,
        lang_hint=str(item.get("lang", "")).replace("_", "-").split("-")[0],
        platform=str(item.get("platform", "")),
        extra=extra,
    )
