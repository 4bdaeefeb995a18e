"""Request and response shapes of the API (pydantic, via ninja's Schema).

Responses are built from model instances by attribute, so the shape lives here
and nowhere else; the OpenAPI document is generated from these classes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from veilleur.monitoring.models import Health, Mention, Sentiment, Source, Story, Watch
from veilleur.monitoring.queries import MAX_SEARCH_CHARS, MentionFilter
from veilleur.monitoring.sources import masked_source_config

MAX_PAGE_SIZE = 200
MAX_ID = 2**63 - 1  # the largest primary key a database column holds
DEFAULT_PAGE_SIZE = 50


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, in one sentence.")


# What any route may answer besides success: 400 (a session without ?workspace=, or a
# token with another workspace's slug), 401 (no valid credentials), 404 (not in the
# workspace, or a session naming a workspace the user does not belong to).
ACCESS_ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut}
# Writes may also answer 403: a role below manager, or a session without CSRF token.
WRITE_ERRORS: dict[int, type[Schema]] = {**ACCESS_ERRORS, 403: ErrorOut}


class FieldErrorOut(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[FieldErrorOut]


class PageParams(Schema):
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Page size.")
    offset: int = Field(0, ge=0, le=10_000_000, description="Items to skip.")


class Page(Schema):
    """The envelope of every list: follow ``next`` until it is null."""

    count: int = Field(description="Items matching the filters, over all pages.")
    limit: int
    offset: int
    next: str | None = Field(description="Path and query of the next page, or null.")
    previous: str | None = Field(description="Path and query of the previous page, or null.")


# --- mentions ---------------------------------------------------------------------------


class AuthorOut(Schema):
    handle: str
    display_name: str
    followers: int | None
    verified: bool
    platform: str


class StoryRef(Schema):
    """The story a mention belongs to, in brief (GET /api/stories/{id} for the members)."""

    id: int
    mention_count: int = Field(description="Stored mentions in the story.")
    copies: int = Field(description="Items in the story, exact copies included.")
    sources: list[int] = Field(description="Ids of the sources the story was seen in.")

    @staticmethod
    def resolve_copies(obj: Story) -> int:
        return obj.copy_count

    @staticmethod
    def resolve_sources(obj: Story) -> list[int]:
        return list(obj.source_ids or [])


class MentionOut(Schema):
    id: int
    source_id: int
    external_id: str
    url: str
    author: AuthorOut | None
    title: str
    text: str
    lang: str
    sentiment: str = Field(description="negative, neutral, positive, or empty when unscored.")
    sentiment_score: float | None = Field(
        description="P(positive) - P(negative), from -1 to 1; null when unscored."
    )
    sentiment_scores: dict[str, float] = Field(
        description="The calibrated probability of each label; {} when unscored. A person's "
        "correction sets its label to 1 and the others to 0."
    )
    sentiment_model: str = Field(
        description='What decided: "model-..." or "lexicon-..." (shipped heads), '
        '"ws<id>-v<n>" (a version trained on the workspace\'s corrections) or "human".'
    )
    corrected: bool = Field(description="True when a person set the sentiment.")
    published_at: datetime
    fetched_at: datetime
    reach: int | None
    watch_ids: list[int]
    extra: dict[str, Any]
    copies: int = Field(
        description="Identical items of this source it stands for, itself included."
    )
    story: StoryRef | None = Field(
        description="Its near-duplicate story (other sources, authors), or null when alone."
    )

    @staticmethod
    def resolve_watch_ids(obj: Mention) -> list[int]:
        # .all() reads the prefetch cache filled by mentions_in: no query per row.
        return sorted(w.pk for w in obj.watches.all())

    @staticmethod
    def resolve_corrected(obj: Mention) -> bool:
        return obj.sentiment_model == "human"

    @staticmethod
    def resolve_sentiment_scores(obj: Mention) -> dict[str, float]:
        scores = obj.sentiment_scores
        return dict(scores) if isinstance(scores, dict) else {}


class MentionPage(Page):
    items: list[MentionOut]


class StoryOut(StoryRef):
    """A story: near-duplicate mentions across sources and authors (docs/stories.md)."""

    first_mention_id: int | None
    first_seen_at: datetime
    last_seen_at: datetime
    author_count: int = Field(description="Distinct authors, of copies too.")
    members: list[MentionOut] = Field(description="Its mentions, newest first, up to limit.")

    @staticmethod
    def resolve_members(obj: Story) -> list[Mention]:
        return list(getattr(obj, "member_list", []))


class StoryParams(Schema):
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description="Members to return.")


class MentionFilters(Schema):
    watch: int | None = Field(
        None, ge=1, le=MAX_ID, description="Only mentions matched by this watch (id)."
    )
    source: int | None = Field(
        None, ge=1, le=MAX_ID, description="Only mentions from this source (id)."
    )
    lang: str | None = Field(None, max_length=8, description="Language code, e.g. fr.")
    sentiment: Sentiment | None = None
    since: datetime | None = Field(None, description="Published at or after (ISO 8601).")
    until: datetime | None = Field(None, description="Published before (ISO 8601).")
    q: str | None = Field(
        None,
        max_length=MAX_SEARCH_CHARS,
        description='Full-text search in title and text: words, "phrases", prefix*, '
        "-exclusions (see docs/search.md).",
    )
    after_id: int | None = Field(
        None,
        ge=0,
        le=MAX_ID,
        description="Only mentions with a larger id, oldest first: for polling clients.",
    )

    def to_filter(self) -> MentionFilter:
        """The service-layer filter these query parameters describe."""
        return MentionFilter(
            watch_id=self.watch,
            source_id=self.source,
            lang=self.lang or "",
            sentiment=self.sentiment.value if self.sentiment else "",
            since=self.since,
            until=self.until,
            text=self.q or "",
            after_id=self.after_id,
        )


class SentimentIn(Schema):
    label: Sentiment = Field(description="The right sentiment: negative, neutral or positive.")


# --- sources ----------------------------------------------------------------------------


class SourceOut(Schema):
    id: int
    name: str
    kind: str
    health: Health
    last_error: str
    last_polled_at: datetime | None
    last_success_at: datetime | None
    next_poll_at: datetime
    poll_interval: int = Field(description="Seconds between polls when healthy.")
    watch_id: int | None
    mention_count: int
    config: dict[str, Any] = Field(description='Secrets (keys naming a secret) read "***".')

    @staticmethod
    def resolve_config(obj: Source) -> Any:
        return masked_source_config(obj)

    @staticmethod
    def resolve_mention_count(obj: Source) -> int:
        # Annotated by sources_in; a freshly created source has none yet.
        return getattr(obj, "mention_count", 0)


class SourcePage(Page):
    items: list[SourceOut]


class SourceIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    kind: str = Field(min_length=1, max_length=32, description="A connector kind, e.g. file.")
    config: dict[str, Any] = Field(default_factory=dict)
    watch: int | None = Field(
        None, ge=1, le=MAX_ID, description="Attach every mention to this watch (id)."
    )
    poll_interval: int = Field(300, ge=10, le=7 * 24 * 3600)


# --- watches ----------------------------------------------------------------------------


class WatchOut(Schema):
    id: int
    name: str
    query: str
    languages: list[str]
    is_active: bool
    mention_count: int

    @staticmethod
    def resolve_mention_count(obj: Watch) -> int:
        return getattr(obj, "mention_count", 0)


class WatchPage(Page):
    items: list[WatchOut]
