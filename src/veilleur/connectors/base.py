"""The connector contract.

A connector turns a source's config and cursor into raw items, the next cursor
and a hint for the next poll. It never touches the database: the pipeline owns
storage, so a connector is easy to test with a fake clock and fake HTTP peers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

JSON = Any  # what json.loads returns: the cursor and config are JSON documents


@dataclass(frozen=True)
class RawItem:
    """One item as a source gave it, before normalisation."""

    external_id: str
    text: str
    published_at: datetime | None = None
    url: str = ""
    title: str = ""
    author_handle: str = ""
    author_name: str = ""
    author_followers: int | None = None
    author_verified: bool = False
    author_url: str = ""
    lang_hint: str = ""
    reach: int | None = None
    platform: str = ""  # when one source mixes platforms (vendor exports); else the kind's
    extra: Mapping[str, JSON] = field(default_factory=dict)


@dataclass(frozen=True)
class PollHint:
    """What the source told us about polling it again.

    ``retry_after`` (seconds) comes from Retry-After or rate-limit headers;
    ``etag``/``last_modified`` belong in the cursor, not here.
    """

    retry_after: float | None = None


@dataclass(frozen=True)
class Batch:
    """The result of one fetch: items, the cursor to store with them, a poll hint.

    ``more`` says the source has further items ready now (a paginated backlog),
    so the pipeline may poll again without waiting for the interval.
    """

    items: Sequence[RawItem]
    cursor: JSON
    hint: PollHint = PollHint()
    more: bool = False


class SourceError(Exception):
    """A fetch failed. ``permanent`` errors (bad credentials, gone) disable the source."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class ConfigInvalid(ValueError):
    """A source's configuration is unusable; the message says which field and why."""


@dataclass(frozen=True)
class ConfigField:
    """One setting of a connector, as the source form and the docs show it.

    ``type`` is one of ``text``, ``url``, ``secret`` (stored encrypted, never shown
    back), ``int``, ``bool``, ``choice`` (from ``choices``) or ``lines`` (a list of
    strings, one per line in the form). ``label`` and ``help`` are lazy translations.
    A secret longer than a line (a key file) sets a ``max_length`` above 2,000 and the
    form shows it as a text area.
    """

    name: str
    label: Any
    type: str = "text"
    required: bool = False
    help: Any = ""
    default: JSON = None
    choices: tuple[tuple[str, Any], ...] = ()
    max_length: int | None = None  # for text values; None: fields.MAX_TEXT (2,000)

    @property
    def secret(self) -> bool:
        return self.type == "secret"


class Connector(Protocol):
    """What every connector module provides (see ``veilleur.connectors.registry``).

    ``fields`` describes the config for forms and for ``veilleur sources add --set``;
    fields of type ``secret`` are encrypted at rest (``veilleur.connectors.secrets``)
    and handed to ``fetch`` in clear.

    A connector whose platform gives less than everything may also define
    ``coverage(config) -> list[str]``: plain sentences, in the active language, saying
    what this source will not see (logged-out limits, review windows, quotas). The
    source page shows them; ``config`` is the stored one (secrets sealed, so only
    their presence can be tested).
    """

    kind: str
    platform: str
    label: str
    fields: tuple[ConfigField, ...]

    def validate_config(self, config: Mapping[str, JSON]) -> dict[str, JSON]:
        """Return the cleaned config or raise ConfigInvalid."""
        ...

    def fetch(self, config: Mapping[str, JSON], cursor: JSON, now: datetime) -> Batch:
        """Fetch what is new since ``cursor``; raise SourceError on failure."""
        ...
