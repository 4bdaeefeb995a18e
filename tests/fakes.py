"""Test doubles shared by test modules: a scriptable connector and data factories.

``FakeConnector`` is registered under the kind ``"fake"`` by :func:`install_fake_connector`.
Each source's ``config["name"]`` names a channel; tests queue batches of items or
errors on a channel and every ``fetch`` takes the next one, so several fake sources
can be scripted independently::

    install_fake_connector(monkeypatch)
    FakeConnector.queue("feed", [raw_item("a1", "hello")], SourceError("down"))
    source = create_source(acme, "fake", "Feed", {"name": "feed"})
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any, ClassVar

import pytest

from veilleur.connectors import registry
from veilleur.connectors.base import JSON, Batch, ConfigInvalid, RawItem

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FAKE_KIND = "fake"


class FakeConnector:
    """A connector whose fetches return what the test queued, in order.

    ``validate_config`` requires a non-empty string ``name`` (the channel) and keeps
    every other key, so tests can also check how configs with secrets are handled.
    The cursor counts fetches; an empty channel returns an empty batch.
    """

    kind = FAKE_KIND
    platform = "fakenet"
    label = "Fake"
    fields = ()
    _channels: ClassVar[defaultdict[str, deque[Sequence[RawItem] | Exception]]] = defaultdict(deque)
    calls: ClassVar[list[tuple[str, JSON]]] = []

    @classmethod
    def queue(cls, channel: str, *results: Sequence[RawItem] | Exception) -> None:
        """Queue batches (sequences of items) or exceptions for the next fetches."""
        cls._channels[channel].extend(results)

    @classmethod
    def reset(cls) -> None:
        cls._channels.clear()
        cls.calls.clear()

    def validate_config(self, config: Mapping[str, JSON]) -> dict[str, JSON]:
        name = config.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigInvalid("name: a non-empty string is required")
        return dict(config)

    def fetch(self, config: Mapping[str, JSON], cursor: JSON, now: datetime) -> Batch:
        channel = str(config["name"])
        self.calls.append((channel, cursor))
        pending = self._channels[channel]
        result: Sequence[RawItem] | Exception = pending.popleft() if pending else []
        if isinstance(result, Exception):
            raise result
        return Batch(items=list(result), cursor=(cursor or 0) + 1, more=False)


class PagedConnector:
    """Serves ``ITEMS`` in pages of ``config["page"]``; the cursor is the next offset."""

    kind = "paged"
    platform = "testnet"
    label = "Paged"
    fields = ()
    ITEMS: list[RawItem] = []

    def validate_config(self, config):
        return dict(config)

    def fetch(self, config, cursor, now):
        start = cursor or 0
        page = self.ITEMS[start : start + config.get("page", 100)]
        end = start + len(page)
        return Batch(items=page, cursor=end, more=end < len(self.ITEMS))


def item(n: int, text: str | None = None, **kw) -> RawItem:
    return RawItem(
        external_id=f"id-{n}",
        text=text or f"Message {n} about Nuvia",
        published_at=NOW - timedelta(minutes=n),
        author_handle=f"@user{n % 3}",
        author_followers=100 * n,
        lang_hint="fr" if n % 2 else "en",
        **kw,
    )


def install_fake_connector(monkeypatch: pytest.MonkeyPatch) -> type[FakeConnector]:
    """Register FakeConnector as kind ``"fake"`` for one test, with empty channels."""
    monkeypatch.setitem(registry.KINDS, FAKE_KIND, f"{__name__}:FakeConnector")
    FakeConnector.reset()
    return FakeConnector


_ids = count(1)


def raw_item(external_id: str | None = None, text: str = "A message", **fields: Any) -> RawItem:
    """A RawItem with sane defaults (published an hour before NOW, a known author)."""
    fields.setdefault("published_at", NOW - timedelta(hours=1))
    fields.setdefault("author_handle", "@someone")
    return RawItem(external_id=external_id or f"ext-{next(_ids)}", text=text, **fields)


def make_mention(source: Any, text: str = "A message", **fields: Any) -> Any:
    """Store a Mention of ``source`` directly, bypassing the pipeline.

    For tests that need exact field values (sentiment, language, dates). Pass
    ``watches=[...]`` to link watches and ``author=Author`` or ``author=None``;
    by default an author ``@someone`` on the platform ``fakenet`` is created or reused.
    """
    from veilleur.monitoring.models import Author, Mention

    watches = fields.pop("watches", [])
    if "author" not in fields:
        fields["author"], _ = Author.objects.get_or_create(
            workspace=source.workspace,
            platform="fakenet",
            handle="@someone",
            defaults={"display_name": "Some One", "followers": 1200, "verified": True},
        )
    fields.setdefault("external_id", f"ext-{next(_ids)}")
    fields.setdefault("published_at", NOW - timedelta(hours=1))
    fields.setdefault("fetched_at", NOW)
    fields.setdefault("content_hash", f"{next(_ids):040d}")
    mention = Mention.objects.create(workspace=source.workspace, source=source, text=text, **fields)
    if watches:
        mention.watches.set(watches)
    return mention
