"""Source management: create with a validated config, enable/disable, dry-run test."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from veilleur.accounts.models import Workspace
from veilleur.analysis.normalise import InvalidItem, NormalisedItem, normalise
from veilleur.connectors.base import JSON, SourceError
from veilleur.connectors.registry import (
    SHELL_ONLY_KINDS,
    KindNotAllowed,
    UnknownKind,
    get_connector,
)
from veilleur.connectors.secrets import keep_unchanged, mask_config, open_config, seal_config
from veilleur.monitoring.health import next_state
from veilleur.monitoring.models import Health, Source, SourceEvent, Watch


def create_source(
    workspace: Workspace,
    kind: str,
    name: str,
    config: Mapping[str, JSON],
    watch: Watch | None = None,
    poll_interval: int = 300,
    *,
    from_shell: bool = False,
) -> Source:
    """Create a source after its connector validated the config (ConfigInvalid otherwise).

    ``from_shell`` says the caller is an operator on the server (the CLI); kinds that
    read local files are refused otherwise (KindNotAllowed).
    """
    connector = get_connector(kind)
    if kind in SHELL_ONLY_KINDS and not from_shell:
        raise KindNotAllowed(
            f"sources of kind {kind!r} read files on the server and can only be added "
            "from the command line (veilleur sources add / veilleur import)"
        )
    clean = seal_config(connector.fields, connector.validate_config(config))
    if watch is not None and watch.workspace_id != workspace.pk:
        raise ValueError("the watch belongs to another workspace")
    return Source.objects.create(
        workspace=workspace,
        kind=kind,
        name=name,
        config=clean,
        watch=watch,
        poll_interval=max(10, poll_interval),
    )


def update_config(source: Source, config: Mapping[str, JSON]) -> Source:
    """Validate and store an edited config (ConfigInvalid otherwise).

    A secret left blank, or sent back masked, keeps its stored value. The cursor is
    kept: the source goes on from where it was unless the connector's cursor no
    longer fits the new config (connectors check that themselves).
    """
    connector = get_connector(source.kind)
    merged = keep_unchanged(connector.fields, config, runtime_config(source))
    source.config = seal_config(connector.fields, connector.validate_config(merged))
    source.save(update_fields=["config"])
    return source


def runtime_config(source: Source) -> dict[str, JSON]:
    """The source's config with its secrets decrypted: for the connector's fetch only."""
    return open_config(get_connector(source.kind).fields, source.config)


def masked_source_config(source: Source) -> dict[str, JSON]:
    """The source's config as pages, the API and the CLI show it: secrets masked."""
    try:
        fields = get_connector(source.kind).fields
    except UnknownKind:  # a kind removed since: mask by name only
        fields = ()
    return mask_config(fields, source.config or {})


@transaction.atomic
def set_enabled(
    source: Source, enabled: bool, actor: str = "", now: datetime | None = None
) -> bool:
    """Disable a source, or re-enable it (back to ok, polled at once).

    Idempotent: a source already in the wanted state is left alone (no event) and
    False is returned; True when the state changed.
    """
    if (source.health != Health.DISABLED) == enabled:
        return False
    now = now or timezone.now()
    event = "enable" if enabled else "disable"
    outcome = next_state(source.health, event, source.consecutive_failures, source.poll_interval)
    SourceEvent.objects.create(
        source=source, at=now, from_health=source.health, to_health=outcome.health, actor=actor
    )
    source.health = outcome.health
    source.consecutive_failures = outcome.failures
    if enabled:
        source.next_poll_at = now
        source.last_error = ""
    source.save(update_fields=["health", "consecutive_failures", "next_poll_at", "last_error"])
    return True


@dataclass
class TestResult:
    ok: bool
    items: list[NormalisedItem]
    invalid: int
    error: str = ""
    permanent: bool = False


def test_source(source: Source, now: datetime | None = None, limit: int = 5) -> TestResult:
    """Fetch once without storing anything or moving the cursor: is the source usable?"""
    now = now or timezone.now()
    try:
        batch = get_connector(source.kind).fetch(runtime_config(source), source.cursor, now)
    except SourceError as exc:
        return TestResult(False, [], 0, str(exc), exc.permanent)
    items, invalid = [], 0
    for raw in batch.items:
        try:
            items.append(normalise(raw, now))
        except InvalidItem:
            invalid += 1
    return TestResult(True, items[:limit], invalid)


test_source.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
