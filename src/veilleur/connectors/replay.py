"""The replay connector: plays a recorded scenario back on an accelerated clock.

A scenario is a JSON-lines file (optionally gzipped) whose lines carry an
``offset_s`` from the scenario's start. The first fetch starts the clock; each
later fetch releases the lines whose offset the simulated clock has passed:
``elapsed = (now - started_at) * speed``. A line's ``published_at`` is
``anchor + offset_s``; by default the anchor is ``started_at - duration`` so the
whole scenario lies in the past, the week ends at about the moment replay started,
and what happens late in the scenario (the demo's crisis) arrives live.

Config: ``{"scenario": "demo"}`` (the bundled file) or ``{"path": "/x.jsonl.gz"}``,
``speed`` (simulated seconds per real second), ``batch_size``, optional ``anchor``
(ISO 8601). Cursor: ``{"started_at", "anchor", "position", "corrupt_lines"}``.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from veilleur.connectors.base import JSON, Batch, ConfigField, ConfigInvalid, RawItem, SourceError

log = logging.getLogger(__name__)

DEFAULT_SPEED = 1.0
MAX_SPEED = 10_000_000.0
DEFAULT_BATCH = 500
MAX_BATCH = 5000
# A scenario is loaded whole; this bounds the memory a mistaken path can take.
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_LINE_CHARS = 100_000
HEADER_FORMAT = "veilleur-scenario"


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario: its items sorted by offset, its duration, the lines skipped."""

    items: tuple[dict[str, Any], ...]
    duration_s: float
    corrupt_lines: int
    header: Mapping[str, Any]


_cache: dict[tuple[str, int, int], Scenario] = {}
_cache_lock = threading.Lock()


def scenario_path(config: Mapping[str, JSON]) -> Path:
    """The file a (validated) config points at."""
    if config.get("path"):
        return Path(str(config["path"])).expanduser()
    from veilleur.demo import SCENARIOS

    return SCENARIOS[str(config.get("scenario") or "demo")]


def load_scenario(path: Path) -> Scenario:
    """Parse a scenario file (cached by path, size and mtime); SourceError when unusable."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise SourceError(f"scenario file {path}: {exc.strerror}", permanent=True) from exc
    if stat.st_size > MAX_FILE_BYTES:
        raise SourceError(f"scenario file {path} is larger than {MAX_FILE_BYTES} bytes",
                          permanent=True)
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    scenario = _parse(path)
    with _cache_lock:
        _cache.clear()  # one scenario at a time in practice; never grow without bound
        _cache[key] = scenario
    return scenario


def _parse(path: Path) -> Scenario:
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8")
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise SourceError(f"scenario file {path} is unreadable: {exc}", permanent=True) from exc
    header: Mapping[str, Any] = {}
    items: list[dict[str, Any]] = []
    corrupt = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        record = _record(line)
        if number == 1 and isinstance(record, dict) and record.get("format") == HEADER_FORMAT:
            header = record
            continue
        if record is None or not _valid_item(record):
            corrupt += 1
            continue
        items.append(record)
    if not items:
        raise SourceError(f"scenario file {path} has no usable line ({corrupt} corrupt)",
                          permanent=True)
    if corrupt:
        log.warning("scenario %s: skipped %d corrupt line(s)", path, corrupt)
    # Stable sort: a file written out of order still replays in time order.
    items.sort(key=lambda item: float(item["offset_s"]))
    duration = _number(header.get("duration_s"))
    last = float(items[-1]["offset_s"])
    return Scenario(tuple(items), max(duration or 0.0, last), corrupt, header)


def _record(line: str) -> dict[str, Any] | None:
    if len(line) > MAX_LINE_CHARS:
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def _valid_item(record: Mapping[str, Any]) -> bool:
    author = record.get("author", {})
    return (
        _number(record.get("offset_s")) is not None
        and isinstance(record.get("id"), str) and bool(record["id"])
        and isinstance(record.get("text", ""), str)
        and isinstance(record.get("title", ""), str)
        and isinstance(author, dict)
    )


def _parse_time(name: str, value: object) -> datetime:
    if not isinstance(value, str):
        raise ConfigInvalid(f"{name}: expected an ISO 8601 date-time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigInvalid(f"{name}: {value!r} is not an ISO 8601 date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: object, limit: int = 20_000) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _to_raw_item(record: Mapping[str, Any], anchor: datetime) -> RawItem:
    author = record.get("author") or {}
    followers = author.get("followers")
    return RawItem(
        external_id=str(record["id"]),
        text=_text(record.get("text")),
        title=_text(record.get("title"), 1000),
        url=_text(record.get("url"), 4096),
        published_at=anchor + timedelta(seconds=float(record["offset_s"])),
        author_handle=_text(author.get("handle"), 512),
        author_name=_text(author.get("name"), 512),
        author_followers=followers if _number(followers) is not None else None,
        author_verified=author.get("verified") is True,
        lang_hint=_text(record.get("lang"), 8),
        platform=_text(record.get("platform"), 32),
        extra={"scenario_kind": _text(record.get("kind"), 32)},
    )


class ReplayConnector:
    """Replay a scenario file; see the module docstring for config and cursor."""

    kind = "replay"
    platform = "replay"
    label = "Scenario replay"
    # Shell-only (the demo, ``sources add replay``): the fields document the settings.
    fields = (
        ConfigField("scenario", "Scenario", default="demo"),
        ConfigField("path", "File"),
        ConfigField("speed", "Speed"),
        ConfigField("batch_size", "Batch size", type="int"),
    )

    def validate_config(self, config: Mapping[str, JSON]) -> dict[str, JSON]:
        """Check the file choice, speed and batch size; return the cleaned config."""
        from veilleur.demo import SCENARIOS

        clean: dict[str, JSON] = {}
        path = config.get("path")
        if path:
            if not isinstance(path, str) or not path.endswith((".jsonl", ".jsonl.gz")):
                raise ConfigInvalid("path: expected a .jsonl or .jsonl.gz file")
            if not Path(path).expanduser().is_file():
                raise ConfigInvalid(f"path: no such file {path}")
            clean["path"] = path
        else:
            name = config.get("scenario") or "demo"
            if name not in SCENARIOS:
                raise ConfigInvalid(
                    f"scenario: unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}"
                )
            clean["scenario"] = name
        speed = config.get("speed", DEFAULT_SPEED)
        if _number(speed) is None or not 0 < float(speed) <= MAX_SPEED:
            raise ConfigInvalid(f"speed: expected a number above 0 and at most {MAX_SPEED:g}")
        clean["speed"] = float(speed)
        batch = config.get("batch_size", DEFAULT_BATCH)
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
            raise ConfigInvalid(f"batch_size: expected a whole number from 1 to {MAX_BATCH}")
        clean["batch_size"] = batch
        if config.get("anchor"):
            clean["anchor"] = _parse_time("anchor", config["anchor"]).isoformat()
        return clean

    def fetch(self, config: Mapping[str, JSON], cursor: JSON, now: datetime) -> Batch:
        """Release the scenario lines the simulated clock has reached since ``cursor``."""
        try:
            config = self.validate_config(config)
        except ConfigInvalid as exc:
            raise SourceError(f"invalid configuration: {exc}", permanent=True) from exc
        scenario = load_scenario(scenario_path(config))
        started_at, anchor, position = self._state(config, cursor, now, scenario)
        speed = float(config["speed"])
        elapsed = max(0.0, (now - started_at).total_seconds()) * speed
        end = position
        limit = min(len(scenario.items), position + int(config["batch_size"]))
        while end < limit and float(scenario.items[end]["offset_s"]) <= elapsed:
            end += 1
        more = end < len(scenario.items) and float(scenario.items[end]["offset_s"]) <= elapsed
        items = [_to_raw_item(record, anchor) for record in scenario.items[position:end]]
        next_cursor = {
            "started_at": started_at.isoformat(),
            "anchor": anchor.isoformat(),
            "position": end,
            "corrupt_lines": scenario.corrupt_lines,
        }
        return Batch(items=items, cursor=next_cursor, more=more)

    @staticmethod
    def _state(
        config: Mapping[str, JSON], cursor: JSON, now: datetime, scenario: Scenario
    ) -> tuple[datetime, datetime, int]:
        """Where replay stands: from the cursor, or starting now on the first fetch."""
        if isinstance(cursor, dict) and cursor.get("started_at"):
            try:
                started_at = _parse_time("cursor.started_at", cursor["started_at"])
                anchor = _parse_time("cursor.anchor", cursor["anchor"])
            except (ConfigInvalid, KeyError) as exc:
                raise SourceError(f"corrupt cursor: {exc}", permanent=True) from exc
            position = cursor.get("position", 0)
            if isinstance(position, bool) or not isinstance(position, int) or position < 0:
                raise SourceError("corrupt cursor: position", permanent=True)
            return started_at, anchor, min(position, len(scenario.items))
        if config.get("anchor"):
            anchor = _parse_time("anchor", config["anchor"])
        else:
            anchor = now - timedelta(seconds=scenario.duration_s)
        return now, anchor, 0


def simulated_now(config: Mapping[str, JSON], cursor: JSON, now: datetime) -> datetime | None:
    """The scenario's clock at real time ``now``: ``anchor + elapsed * speed``.

    None before the first fetch started the clock (or with an unreadable cursor).
    Detectors read this clock for watches fed by a replay, so that a replayed crisis is
    detected in simulated time (docs/detection.md).
    """
    if not isinstance(cursor, dict) or not cursor.get("started_at"):
        return None
    try:
        started_at = _parse_time("cursor.started_at", cursor["started_at"])
        anchor = _parse_time("cursor.anchor", cursor["anchor"])
        speed = float(config.get("speed", DEFAULT_SPEED))  # type: ignore[arg-type]
    except (ConfigInvalid, KeyError, TypeError, ValueError):
        return None
    elapsed = max(0.0, (now - started_at).total_seconds()) * speed
    return anchor + timedelta(seconds=elapsed)
