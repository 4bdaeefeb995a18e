"""Configuration from ``VEILLEUR_*`` environment variables.

Everything the operator can set lives here, parsed and validated once at start-up.
A bad value raises :class:`ConfigError` naming the variable, so a typo stops the
process before it serves anything. Secrets can be given inline or through a
``VEILLEUR_<NAME>_FILE`` variable pointing at a file (Docker/Kubernetes secrets).
This module does not import Django: ``veilleur config`` and the tests use it alone.
"""

from __future__ import annotations

import os
import secrets
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

PREFIX = "VEILLEUR_"
LANGUAGES = ("en", "fr")
TASK_BACKENDS = ("immediate", "database", "redis")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ImproperlyConfigured):
    """A configuration variable has a value we cannot use."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(f"{name}: {message}")


@dataclass(frozen=True)
class Setting:
    """One documented variable: its name (without prefix), default and parser."""

    name: str
    default: str | None
    help: str
    secret: bool = False


# The single list of settings: `veilleur config` prints it and docs/configuration.md
# is checked against it by a test, so a new variable cannot go undocumented.
SETTINGS: tuple[Setting, ...] = (
    Setting("DATA_DIR", "data", "Directory for the SQLite database, secret key and uploads."),
    Setting("DATABASE_URL", None, "Database URL; SQLite file in DATA_DIR when unset.", True),
    Setting("SECRET_KEY", None, "Django secret key; generated into DATA_DIR when unset.", True),
    Setting("DEBUG", "false", "Debug mode (never in production)."),
    Setting("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]", "Comma-separated host names served."),
    Setting("CSRF_TRUSTED_ORIGINS", "", "Comma-separated origins (https://example.org)."),
    Setting("BASE_URL", "", "Public address of this installation, for links in alerts."),
    Setting("TIME_ZONE", "Europe/Paris", "Default time zone for display (IANA name)."),
    Setting("LANGUAGE", "en", "Default interface language: en or fr."),
    Setting("HOST", "127.0.0.1", "Address the web server binds to."),
    Setting("PORT", "8000", "Port the web server listens on."),
    Setting("TASK_BACKEND", "immediate", "Background work: immediate, database or redis."),
    Setting("REDIS_URL", "redis://127.0.0.1:6379/0", "Redis URL for TASK_BACKEND=redis.", True),
    Setting("SCHEDULER_INTERVAL", "5", "Seconds between two scheduler passes."),
    Setting("STORY_WINDOW_DAYS", "7", "Days within which copies and near-duplicates group."),
    Setting("SENTIMENT_MODE", "model",
            "Sentiment of new mentions: model, lexicon (faster) or accurate (slower)."),
    Setting("ALLOW_PRIVATE_NETWORKS", "false", "Allow fetching URLs on private networks."),
    Setting("LOG_LEVEL", "INFO", "Logging level: DEBUG, INFO, WARNING, ERROR."),
)


@dataclass(frozen=True)
class Config:
    """The effective configuration, fully validated."""

    data_dir: Path
    database_url: str
    secret_key: str
    debug: bool
    allowed_hosts: list[str]
    csrf_trusted_origins: list[str]
    base_url: str
    time_zone: str
    language: str
    host: str
    port: int
    task_backend: str
    redis_url: str
    scheduler_interval: float
    story_window_days: float
    sentiment_mode: str
    allow_private_networks: bool
    log_level: str
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def masked(self) -> dict[str, str]:
        """Every setting as printable text, secrets masked."""
        out: dict[str, str] = {}
        secret_names = {s.name.lower() for s in SETTINGS if s.secret}
        for f in fields(self):
            if f.name == "sources":
                continue
            value = getattr(self, f.name)
            text = ",".join(value) if isinstance(value, list) else str(value)
            if f.name in secret_names:
                text = mask_secret(f.name, text)
            out[f.name] = text
        return out


def mask_secret(name: str, value: str) -> str:
    """Hide a secret; for URLs keep scheme, host and path so the operator can check them."""
    if name.endswith("_url") and "://" in value:
        parts = urlsplit(value)
        if parts.password:
            netloc = f"{parts.username}:***@{parts.hostname}"
            if parts.port:
                netloc += f":{parts.port}"
            return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        return value
    return "***" if value else ""


def _raw(env: Mapping[str, str], setting: Setting) -> tuple[str | None, str]:
    """The raw text of a variable and where it came from (env, file or default)."""
    name = PREFIX + setting.name
    file_var = name + "_FILE"
    if setting.secret and env.get(file_var):
        path = Path(env[file_var])
        try:
            return path.read_text(encoding="utf-8").strip(), f"file {path}"
        except OSError as exc:
            raise ConfigError(file_var, f"cannot read {path}: {exc.strerror}") from exc
    if name in env:
        return env[name], "environment"
    return setting.default, "default"


def _bool(name: str, text: str) -> bool:
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ConfigError(name, f"expected true or false, got {text!r}")


def _int(name: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(name, f"expected a whole number, got {text!r}") from None
    if not low <= value <= high:
        raise ConfigError(name, f"expected a number between {low} and {high}, got {value}")
    return value


def _float(name: str, text: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(name, f"expected a number, got {text!r}") from None
    if not low <= value <= high:
        raise ConfigError(name, f"expected a number between {low} and {high}, got {value}")
    return value


def _choice(name: str, text: str, choices: tuple[str, ...]) -> str:
    value = text.strip().lower()
    if value not in choices:
        raise ConfigError(name, f"expected one of {', '.join(choices)}, got {text!r}")
    return value


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _database_url(name: str, text: str) -> str:
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(name, "expected sqlite:///path or postgresql://user:pass@host/db")
    return text


def _redis_url(name: str, text: str) -> str:
    if not text.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(name, "expected redis://host:port/db, rediss:// or unix://")
    return text


def _secret_key(name: str, text: str | None, data_dir: Path) -> str:
    """Use the given key, or one generated once and kept in DATA_DIR."""
    if text:
        if len(text) < 32:
            raise ConfigError(name, "must be at least 32 characters long")
        return text
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        key_file.write_text(key, encoding="utf-8")
        key_file.chmod(0o600)
    except OSError as exc:
        raise ConfigError(PREFIX + "DATA_DIR", f"cannot create {key_file}: {exc.strerror}") from exc
    return key


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Read, validate and return the configuration; raise ConfigError on a bad value."""
    env = os.environ if env is None else env
    raw: dict[str, str | None] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        raw[setting.name], sources[setting.name] = _raw(env, setting)

    def text(key: str) -> str:
        return raw[key] or ""

    def n(key: str) -> str:
        return PREFIX + key

    data_dir = Path(text("DATA_DIR") or "data").expanduser().resolve()
    database_url = raw["DATABASE_URL"] or f"sqlite:///{data_dir / 'veilleur.sqlite3'}"
    time_zone = text("TIME_ZONE")
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(n("TIME_ZONE"), f"unknown time zone {time_zone!r}") from None
    parsers: dict[str, Callable[[], Any]] = {
        "database_url": lambda: _database_url(n("DATABASE_URL"), database_url),
        "debug": lambda: _bool(n("DEBUG"), text("DEBUG")),
        "allowed_hosts": lambda: _csv(text("ALLOWED_HOSTS")),
        "csrf_trusted_origins": lambda: _origins(n("CSRF_TRUSTED_ORIGINS"), text),
        "base_url": lambda: _base_url(n("BASE_URL"), text("BASE_URL")),
        "language": lambda: _choice(n("LANGUAGE"), text("LANGUAGE"), LANGUAGES),
        "port": lambda: _int(n("PORT"), text("PORT"), 1, 65535),
        "task_backend": lambda: _choice(n("TASK_BACKEND"), text("TASK_BACKEND"), TASK_BACKENDS),
        "redis_url": lambda: _redis_url(n("REDIS_URL"), text("REDIS_URL")),
        "scheduler_interval": lambda: _float(
            n("SCHEDULER_INTERVAL"), text("SCHEDULER_INTERVAL"), 0.1, 3600
        ),
        "story_window_days": lambda: _float(
            n("STORY_WINDOW_DAYS"), text("STORY_WINDOW_DAYS"), 0.1, 90
        ),
        "sentiment_mode": lambda: _choice(
            n("SENTIMENT_MODE"), text("SENTIMENT_MODE"), ("model", "lexicon", "accurate")
        ),
        "allow_private_networks": lambda: _bool(
            n("ALLOW_PRIVATE_NETWORKS"), text("ALLOW_PRIVATE_NETWORKS")
        ),
        "log_level": lambda: _choice(
            n("LOG_LEVEL"), text("LOG_LEVEL"), ("debug", "info", "warning", "error")
        ).upper(),
    }
    values = {key: parse() for key, parse in parsers.items()}
    if not values["allowed_hosts"]:
        raise ConfigError(n("ALLOWED_HOSTS"), "must name at least one host")
    return Config(
        data_dir=data_dir,
        secret_key=_secret_key(n("SECRET_KEY"), raw["SECRET_KEY"], data_dir),
        time_zone=time_zone,
        host=text("HOST") or "127.0.0.1",
        sources=sources,
        **values,
    )


def _origins(name: str, text: Callable[[str], str]) -> list[str]:
    origins = _csv(text("CSRF_TRUSTED_ORIGINS"))
    for origin in origins:
        if not origin.startswith(("http://", "https://")):
            raise ConfigError(name, f"origin {origin!r} must start with http:// or https://")
    return origins


def _base_url(name: str, text: str) -> str:
    text = text.strip().rstrip("/")
    if text and not text.startswith(("http://", "https://")):
        raise ConfigError(name, "expected an address such as https://veilleur.example.org")
    return text


def load_dotenv_file(path: str | os.PathLike[str] | None = None) -> None:
    """Load ``.env`` (or VEILLEUR_ENV_FILE) without overriding the real environment."""
    from dotenv import load_dotenv

    target = path or os.environ.get(PREFIX + "ENV_FILE") or ".env"
    if Path(target).is_file():
        load_dotenv(target, override=False)
