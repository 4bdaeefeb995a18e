"""The ``file`` connector: mentions from a CSV or JSON-lines export on disk.

Config (validated by ``validate_config``)::

    {"path": "/data/brandwatch.csv", "format": "auto" | "csv" | "jsonl",
     "vendor": "auto" | "brandwatch" | "talkwalker" | "mention" | "generic",
     "mapping": {"text": "Body", "published_at": ["Date", "Created"], ...},
     "batch_size": 1000, "encoding": "auto" | "utf-8" | "cp1252" | ...,
     "lang": "fr", "timezone": "Europe/Paris", "date_order": "auto" | "dmy" | "mdy",
     "platform": "twitter"}

The cursor remembers what the first fetch learnt about the file (encoding,
delimiter, header row, resolved columns, date order) and where the next record
starts (a byte offset), with a fingerprint of the file (size and a hash of its
first 64 KiB). Each fetch returns the next ``batch_size`` records with
``more=True`` until the end. The pipeline commits each batch with its cursor,
so an interrupted import resumes after the last committed batch. A file that
grew (same beginning) is read on from where the import stopped; a file that was
replaced is read again from the start, and the mentions already stored are
skipped by their ids.

Records that cannot be read are counted in the cursor (``invalid``) with their
row number and the reason (``errors``, the first 50): never dropped silently,
never fatal for the rest of the file.
"""

from __future__ import annotations

import codecs
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from veilleur.connectors.base import JSON, Batch, ConfigField, ConfigInvalid, RawItem, SourceError
from veilleur.connectors.export_files import (
    CsvLayout,
    Record,
    UnreadableFile,
    detect_encoding,
    find_csv_header,
    jsonl_keys,
    read_csv_records,
    read_jsonl_records,
    sniff_csv_header,
)
from veilleur.connectors.timestamps import (
    DATE_ORDERS,
    DEFAULT_DATE_ORDER,
    BadTimestamp,
    get_zone,
    infer_date_order,
    parse_timestamp,
)
from veilleur.connectors.vendor_formats import (
    GENERIC,
    VENDORS,
    MappingError,
    VendorFormat,
    clean_mapping,
    detect_vendor,
    normalise_lang,
    normalise_platform,
    parse_bool,
    parse_count,
    resolve_columns,
)

FORMATS = ("auto", "csv", "jsonl")
VENDOR_CHOICES = ("auto", *VENDORS, "generic")
DEFAULT_BATCH = 1000
MAX_BATCH = 10_000
MAX_ERRORS_KEPT = 50
MAX_EXTRA_COLUMNS = 40
MAX_EXTRA_VALUE = 1000
HEAD_BYTES = 64 * 1024
DATE_SAMPLE_ROWS = 500
CURSOR_VERSION = 1
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}


@dataclass(frozen=True)
class _Plan:
    """How the records of one file become raw items (rebuilt from the cursor)."""

    columns: dict[str, list[str]]
    extra_columns: list[str]
    zone: tzinfo
    date_order: str
    lang: str
    platform: str
    vendor: str


class FileImportConnector:
    """Imports a vendor export or any CSV/JSONL file, one batch of records per fetch."""

    kind = "file"
    platform = "file"
    label = "File import"
    # Shell-only (``veilleur import`` / ``sources add file``): no form, so the fields
    # only document the settings; ``validate_config`` does the checking.
    fields = (
        ConfigField("path", "File", required=True),
        ConfigField("format", "Format", default="auto"),
        ConfigField("vendor", "Vendor", default="auto"),
        ConfigField("date_order", "Date order", default="auto"),
        ConfigField("batch_size", "Batch size", type="int"),
        ConfigField("encoding", "Encoding", default="auto"),
        ConfigField("lang", "Language"),
        ConfigField("timezone", "Time zone", default="UTC"),
        ConfigField("platform", "Platform"),
    )

    def validate_config(self, config: Mapping[str, JSON]) -> dict[str, JSON]:
        """Return the cleaned config or raise ConfigInvalid naming the field."""
        path = config.get("path")
        if not isinstance(path, str) or not path.strip():
            raise ConfigInvalid("path: the file to import is required")
        clean: dict[str, JSON] = {"path": str(Path(path.strip()).expanduser())}
        clean["format"] = _choice(config, "format", FORMATS, "auto")
        clean["vendor"] = _choice(config, "vendor", VENDOR_CHOICES, "auto")
        clean["date_order"] = _choice(config, "date_order", ("auto", *DATE_ORDERS), "auto")
        if config.get("mapping") not in (None, {}):
            try:
                clean["mapping"] = clean_mapping(config["mapping"])
            except MappingError as exc:
                raise ConfigInvalid(f"mapping: {exc}") from None
        batch = config.get("batch_size", DEFAULT_BATCH)
        if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= MAX_BATCH:
            raise ConfigInvalid(f"batch_size: a whole number from 1 to {MAX_BATCH}")
        clean["batch_size"] = batch
        clean["encoding"] = _encoding(config.get("encoding", "auto"))
        lang = config.get("lang") or ""
        if not isinstance(lang, str) or (lang and not normalise_lang(lang)):
            raise ConfigInvalid("lang: a language code such as fr or en")
        clean["lang"] = normalise_lang(lang) if lang else ""
        zone = config.get("timezone") or "UTC"
        try:
            get_zone(str(zone))
        except ValueError as exc:
            raise ConfigInvalid(f"timezone: {exc}") from None
        clean["timezone"] = str(zone)
        platform = config.get("platform") or ""
        clean["platform"] = normalise_platform(platform) if isinstance(platform, str) else ""
        return clean

    def fetch(self, config: Mapping[str, JSON], cursor: JSON, now: datetime) -> Batch:
        """The next batch of records after ``cursor``; SourceError when the file is unusable."""
        try:
            config = self.validate_config(config)
        except ConfigInvalid as exc:
            raise SourceError(f"invalid configuration: {exc}", permanent=True) from None
        path = Path(str(config["path"]))
        state = cursor if isinstance(cursor, dict) else None
        try:
            stat = path.stat()
        except FileNotFoundError:
            if state and state.get("done"):
                return Batch([], state)  # imported, then tidied away: nothing to report
            raise SourceError(f"file not found: {path}", permanent=True) from None
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror}", permanent=True) from None
        if not path.is_file():
            raise SourceError(f"not a regular file: {path}", permanent=True)
        try:
            if not _resumable(state, config, path, stat.st_size):
                state = self._start(path, config, stat.st_size)
            assert state is not None
            return self._read(path, config, state, stat.st_size)
        except UnreadableFile as exc:
            raise SourceError(f"{path.name}: {exc}", permanent=True) from None
        except PermissionError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror}", permanent=True) from None
        except LookupError as exc:  # an encoding name Python does not know
            raise SourceError(f"{path.name}: {exc}", permanent=True) from None

    # --- the first fetch: learn the file's layout -----------------------------------

    def _start(self, path: Path, config: Mapping[str, JSON], size: int) -> dict[str, JSON]:
        encoding, bom = detect_encoding(path, str(config.get("encoding", "auto")))
        fmt = str(config.get("format", "auto"))
        if fmt == "auto":
            fmt = _guess_format(path, encoding, bom)
        mapping = config.get("mapping") or {}
        vendor = VENDORS.get(str(config.get("vendor")))
        if str(config.get("vendor")) == "generic":
            vendor = GENERIC
        if fmt == "jsonl":
            header = jsonl_keys(path, encoding, bom)
            layout = CsvLayout("", header, bom, 0)
        else:
            layout = self._csv_layout(path, encoding, bom, vendor, mapping)
        if vendor is None and not mapping:
            vendor = detect_vendor(layout.header) or GENERIC
        columns = _columns(layout.header, vendor, mapping)
        state: dict[str, JSON] = {
            "v": CURSOR_VERSION, "config": _config_key(config),
            # The file's identity: its first bytes (as many as it had then), so a
            # file that grows is the same file and a replaced one is not.
            "head": _head_hash(path, min(size, HEAD_BYTES)), "head_len": min(size, HEAD_BYTES),
            "format": fmt, "encoding": encoding, "delimiter": layout.delimiter,
            "header": layout.header, "columns": columns,
            "vendor": vendor.name if vendor else "mapping",
            "offset": layout.data_offset, "line": layout.header_line, "row": 0,
            "invalid": 0, "errors": [], "done": False, "size": 0,
        }
        order = str(config.get("date_order", "auto"))
        if order == "auto":
            order = (vendor.date_order if vendor else None) or self._sample_order(
                path, state) or DEFAULT_DATE_ORDER
        state["date_order"] = order
        return state

    def _csv_layout(
        self, path: Path, encoding: str, bom: int, vendor: VendorFormat | None,
        mapping: Mapping[str, list[str]],
    ) -> CsvLayout:
        def score(cells: list[str]) -> float:
            if mapping:
                found = resolve_columns(cells, mapping)
                wanted = len(mapping)
                return len(found) / wanted if ("text" in found or "title" in found) else 0.0
            candidates = [vendor] if vendor else [*VENDORS.values(), GENERIC]
            best = 0.0
            for fmt in candidates:
                found = resolve_columns(cells, fmt.columns)
                if "text" in found:
                    signature = sum(
                        c.casefold() in {x.casefold() for x in cells} for c in fmt.signature)
                    best = max(best, len(found) + 2 * signature)
            return best

        layout = find_csv_header(path, encoding, bom, score)
        if layout is not None:
            return layout
        if mapping or vendor:
            spec = mapping or (vendor.columns if vendor else {})
            expected = sorted({c for cols in spec.values() for c in cols})[:12]
            first = sniff_csv_header(path, encoding, bom).header[:12]
            raise UnreadableFile(
                f"no header row with the expected columns ({', '.join(expected)}) in the first "
                f"rows; the first row has: {', '.join(first) or '(nothing)'}"
            )
        layout = sniff_csv_header(path, encoding, bom)
        raise UnreadableFile(
            "cannot tell which column holds the text; the header has: "
            f"{', '.join(layout.header[:12])}. Give --vendor or a --mapping file"
        )

    def _sample_order(self, path: Path, state: Mapping[str, JSON]) -> str | None:
        mapped = state["columns"]
        columns = mapped.get("published_at") if isinstance(mapped, dict) else None
        if not columns:
            return None
        values: list[str] = []
        for record in self._records(path, state, DATE_SAMPLE_ROWS):
            if record.cells:
                values.extend(record.cells.get(c, "") for c in columns)
        return infer_date_order(values)

    # --- every fetch: read a batch ---------------------------------------------------

    def _records(self, path: Path, state: Mapping[str, JSON], limit: int) -> list[Record]:
        offset, row, line = int(state["offset"]), int(state["row"]), int(state["line"])
        encoding = str(state["encoding"])
        if state["format"] == "jsonl":
            return list(read_jsonl_records(path, encoding, offset, row, line, limit))
        header = [str(h) for h in state["header"]]
        return list(read_csv_records(
            path, encoding, str(state["delimiter"]), header, offset, row, line, limit))

    def _read(
        self, path: Path, config: Mapping[str, JSON], state: dict[str, JSON], size: int
    ) -> Batch:
        limit = int(config.get("batch_size", DEFAULT_BATCH))
        records = self._records(path, state, limit) if int(state["offset"]) < size else []
        plan = _plan(state, config)
        items: list[RawItem] = []
        errors = list(state["errors"])
        invalid = int(state["invalid"])
        for record in records:
            reason = record.error
            if not reason and record.cells is not None:
                item = _item(record, plan, path.name)
                if isinstance(item, RawItem):
                    items.append(item)
                    continue
                reason = item
            invalid += 1
            if len(errors) < MAX_ERRORS_KEPT:
                errors.append(f"row {record.number} (line {record.line}): {reason}"[:300])
        new = dict(state)
        if records:
            last = records[-1]
            new.update(offset=last.end_offset, row=last.number, line=last.end_line)
        done = len(records) < limit or int(new["offset"]) >= size
        new.update(invalid=invalid, errors=errors, size=size, done=done)
        return Batch(items, new, more=not done)


# --- records to raw items -------------------------------------------------------------


def _item(record: Record, plan: _Plan, file_name: str) -> RawItem | str:
    """The raw item for one record, or the reason it cannot be one."""
    cells = record.cells or {}

    def get(field: str) -> str:
        for column in plan.columns.get(field, ()):
            value = cells.get(column, "").strip()
            if value:
                return value
        return ""

    text, title = get("text"), get("title")
    if not text and not title:
        return "no text"
    published: datetime | None = None
    raw_date = get("published_at")
    if "published_at" in plan.columns:
        if not raw_date:
            return "no date"
        try:
            published = parse_timestamp(raw_date, plan.zone, plan.date_order)
        except BadTimestamp as exc:
            return str(exc)
    url = get("url")
    external_id = get("external_id") or _content_id(url, text or title, raw_date)
    name = get("author_name")
    handle = get("author_handle").lstrip("@") or name
    extra: dict[str, JSON] = {"import": {"file": file_name[:200], "row": record.number,
                                         "vendor": plan.vendor}}
    columns = {}
    for column in plan.extra_columns:
        value = cells.get(column, "").strip()
        if value:
            columns[column[:64]] = value[:MAX_EXTRA_VALUE]
    if columns:
        extra["columns"] = columns
    return RawItem(
        external_id=external_id,
        text=text,
        title=title,
        url=url,
        published_at=published,
        author_handle=handle,
        author_name=name,
        author_followers=parse_count(get("author_followers")),
        author_verified=parse_bool(get("author_verified")),
        lang_hint=normalise_lang(get("lang")) or plan.lang,
        reach=parse_count(get("reach")),
        platform=normalise_platform(get("platform")) or plan.platform,
        extra=extra,
    )


def _content_id(url: str, text: str, date: str) -> str:
    """A stable id for rows without one: the same row always hashes the same."""
    digest = hashlib.sha1(f"{url}\x1f{text}\x1f{date}".encode(), usedforsecurity=False)
    return "sha1:" + digest.hexdigest()


# --- helpers ------------------------------------------------------------------------------


def _plan(state: Mapping[str, JSON], config: Mapping[str, JSON]) -> _Plan:
    columns = {str(k): [str(c) for c in v] for k, v in dict(state["columns"]).items()}
    used = {c for cols in columns.values() for c in cols}
    extra = [str(h) for h in state["header"] if h and h not in used][:MAX_EXTRA_COLUMNS]
    return _Plan(
        columns=columns,
        extra_columns=extra,
        zone=get_zone(str(config.get("timezone") or "UTC")),
        date_order=str(state.get("date_order") or DEFAULT_DATE_ORDER),
        lang=str(config.get("lang") or ""),
        platform=str(config.get("platform") or ""),
        vendor=str(state.get("vendor", "")),
    )


def _columns(
    header: list[str], vendor: VendorFormat | None, mapping: Mapping[str, list[str]]
) -> dict[str, list[str]]:
    """field -> header names, checking that every column a user mapping names exists."""
    spec: dict[str, list[str]] = {k: list(v) for k, v in (vendor.columns if vendor else {}).items()}
    for field, wanted in mapping.items():
        found = resolve_columns(header, {field: wanted})
        if not found:
            shown = ", ".join(header[:15])
            raise UnreadableFile(
                f"column {' / '.join(wanted)!r} (field {field}) is not in the header: {shown}"
            )
        spec[field] = list(wanted)
    resolved = resolve_columns(header, spec)
    if "text" not in resolved and "title" not in resolved:
        raise UnreadableFile(
            f"no text column among {', '.join(header[:15])}; give --vendor or a --mapping file"
        )
    return {field: [header[i] for i in indexes] for field, indexes in resolved.items()}


def _resumable(state: Mapping[str, JSON] | None, config: Mapping[str, JSON], path: Path,
               size: int) -> bool:
    """Whether ``state`` describes this file with these settings, so reading can go on."""
    if not (
        state
        and state.get("v") == CURSOR_VERSION
        and state.get("config") == _config_key(config)
        and int(state.get("offset", 0)) <= size
    ):
        return False
    return state.get("head") == _head_hash(path, int(state.get("head_len", HEAD_BYTES)))


def _config_key(config: Mapping[str, JSON]) -> str:
    keys = ("path", "format", "vendor", "mapping", "encoding", "date_order")
    blob = json.dumps({k: config.get(k) for k in keys}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode(), usedforsecurity=False).hexdigest()[:16]


def _head_hash(path: Path, length: int) -> str:
    with path.open("rb") as fh:
        return hashlib.sha1(fh.read(length), usedforsecurity=False).hexdigest()


def _guess_format(path: Path, encoding: str, bom: int) -> str:
    if path.suffix.lower() in JSONL_SUFFIXES:
        return "jsonl"
    if path.suffix.lower() in {".csv", ".tsv", ".txt"}:
        return "csv"
    with path.open("rb") as fh:
        fh.seek(bom)
        start = fh.read(256).decode(encoding, errors="replace").lstrip()
    return "jsonl" if start.startswith("{") else "csv"


def _choice(config: Mapping[str, JSON], key: str, choices: tuple[str, ...], default: str) -> str:
    value = config.get(key) or default
    if value not in choices:
        raise ConfigInvalid(f"{key}: {value!r} is not one of {', '.join(choices)}")
    return str(value)


def _encoding(value: JSON) -> str:
    if value in (None, "", "auto"):
        return "auto"
    try:
        name = codecs.lookup(str(value)).name
    except LookupError:
        raise ConfigInvalid(f"encoding: unknown encoding {value!r}") from None
    if name.startswith(("utf-16", "utf-32")):
        raise ConfigInvalid("encoding: UTF-16/32 files are not supported; save as UTF-8")
    return name


__all__ = ["FileImportConnector"]
