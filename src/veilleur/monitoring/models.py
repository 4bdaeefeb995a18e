"""Watches, sources, authors and mentions: what is monitored and what was found.

Every row belongs to one workspace (directly or through its source) and every
query in views, API and CLI goes through ``for_workspace`` so no code path can
read across workspaces by accident.
"""

from __future__ import annotations

from typing import Self, TypeVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from veilleur.accounts.models import Workspace

_M = TypeVar("_M", bound=models.Model)


class WorkspaceQuerySet(models.QuerySet[_M]):
    def for_workspace(self, workspace: Workspace) -> Self:
        return self.filter(workspace=workspace)


class Watch(models.Model):
    """A subject to monitor (a brand, a product, a person) with its query."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="watches")
    name = models.CharField(_("name"), max_length=120)
    query = models.TextField(
        _("query"), help_text=_('Terms to match, e.g. Fibrelune OR "Fibrelune Box".')
    )
    languages = models.JSONField(_("languages"), default=list, blank=True)
    owned_accounts = models.JSONField(_("owned accounts"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("watch")
        verbose_name_plural = _("watches")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="unique_watch_name")
        ]

    def __str__(self) -> str:
        return self.name


class Health(models.TextChoices):
    """A source's health; transitions are in ``veilleur.monitoring.health``."""

    OK = "ok", _("OK")
    DEGRADED = "degraded", _("Degraded")
    FAILING = "failing", _("Failing")
    DISABLED = "disabled", _("Disabled")


class Source(models.Model):
    """A place mentions come from: a connector kind, its config and its cursor."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="sources")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=32)
    config = models.JSONField(_("configuration"), default=dict, blank=True)
    # When set, every mention of this source belongs to this watch (e.g. a vendor
    # export already filtered by the vendor's own query); otherwise watches match.
    watch = models.ForeignKey(
        Watch, null=True, blank=True, on_delete=models.SET_NULL, related_name="sources"
    )
    cursor = models.JSONField(null=True, blank=True)
    # Bumped with every committed batch: a poll only commits if the cursor it read
    # is still current, so two workers polling the same source cannot both store.
    cursor_version = models.PositiveIntegerField(default=0)
    poll_interval = models.PositiveIntegerField(_("poll interval (s)"), default=300)
    next_poll_at = models.DateTimeField(default=timezone.now, db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    health = models.CharField(_("health"), max_length=16, choices=Health.choices, default=Health.OK)
    last_error = models.TextField(_("last error"), blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("source")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="unique_source_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class SourceEvent(models.Model):
    """One health transition of a source: the audit trail of its life."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    from_health = models.CharField(max_length=16, choices=Health.choices)
    to_health = models.CharField(max_length=16, choices=Health.choices)
    error = models.TextField(blank=True)
    actor = models.CharField(max_length=150, blank=True, help_text="user, or empty for system")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.source_id}: {self.from_health} -> {self.to_health}"


class Author(models.Model):
    """Who wrote a mention, per platform, with what reach."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="authors")
    platform = models.CharField(max_length=32)
    handle = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    followers = models.BigIntegerField(null=True, blank=True)
    verified = models.BooleanField(default=False)
    url = models.URLField(max_length=2048, blank=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "platform", "handle"], name="unique_author_handle"
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.handle


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")


class MentionStatus(models.TextChoices):
    NEW = "new", _("New")
    REVIEWED = "reviewed", _("Reviewed")
    ARCHIVED = "archived", _("Archived")


class Story(models.Model):
    """Near-duplicate mentions across sources and authors: one thing spreading.

    Retweets, syndicated copies of an article, a copy-paste campaign. A story exists
    from its second member on (``veilleur.monitoring.stories``); its counts are
    recomputed from its members whenever one joins, so they never drift.
    """

    # Indexed by story_recent (workspace first); a second index would only slow inserts.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="stories", db_index=False
    )
    first_mention = models.ForeignKey(
        "Mention", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"))
    # Stored mentions; items including absorbed copies; distinct authors of both.
    mention_count = models.PositiveIntegerField(_("mentions"), default=0)
    copy_count = models.PositiveIntegerField(_("copies"), default=0)
    author_count = models.PositiveIntegerField(_("authors"), default=0)
    source_ids = models.JSONField(default=list, blank=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        verbose_name = _("story")
        verbose_name_plural = _("stories")
        indexes = [models.Index(fields=["workspace", "-last_seen_at"], name="story_recent")]

    def __str__(self) -> str:
        return f"story {self.pk} ({self.mention_count})"


class Mention(models.Model):
    """One post, article, review or comment that a source returned."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="mentions")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="mentions")
    external_id = models.CharField(max_length=512)
    url = models.URLField(max_length=2048, blank=True)
    author = models.ForeignKey(
        Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="mentions"
    )
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    lang = models.CharField(max_length=8, blank=True, db_index=True)
    published_at = models.DateTimeField()
    fetched_at = models.DateTimeField(default=timezone.now)
    reach = models.BigIntegerField(null=True, blank=True)
    sentiment = models.CharField(max_length=8, choices=Sentiment.choices, blank=True)
    # P(positive) - P(negative), in [-1, 1]; the label's probabilities are in sentiment_scores.
    sentiment_score = models.FloatField(null=True, blank=True)
    sentiment_scores = models.JSONField(default=dict, blank=True)
    # Which head decided: "model-<version>", "lexicon-<version>", "ws<id>-v<n>" or "human".
    sentiment_model = models.CharField(max_length=64, blank=True)
    # Sentence embedding, int8 + scale (veilleur.analysis.nlp.pack); empty in lexicon mode.
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    content_hash = models.CharField(max_length=40, db_index=True)
    status = models.CharField(max_length=16, choices=MentionStatus.choices, default="new")
    # Connector-specific facts kept verbatim: thread/parent ids, rating, country...
    extra = models.JSONField(default=dict, blank=True)
    watches = models.ManyToManyField(Watch, related_name="mentions", blank=True)
    # Dedup (veilleur.analysis.dedup, docs/stories.md): the URL without tracking
    # parameters, the MinHash of the story words (None when too short to compare),
    # the near-duplicate story, and how many identical items of this source it stands
    # for (itself included; the others are MentionCopy rows).
    canonical_url = models.CharField(max_length=2048, blank=True)
    signature = models.BinaryField(null=True, blank=True, editable=False)
    story = models.ForeignKey(
        Story, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    copies = models.PositiveIntegerField(_("copies"), default=1)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="unique_mention_per_source"
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "-published_at"], name="mention_recent"),
            # Copies are looked up per source; with the source first, the database
            # does not fall back to scanning the whole source (docs/stories.md).
            models.Index(fields=["source", "content_hash"], name="mention_source_hash"),
            models.Index(fields=["source", "canonical_url"], name="mention_source_url"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.external_id}"


class MentionCopy(models.Model):
    """An exact duplicate of a stored mention in the same source, counted, not stored.

    Keeping its external id makes a re-fetch of the same item a no-op (the pipeline
    skips ids it has either stored or absorbed); keeping its author and time lets
    story and volume counts see a copy-paste campaign's many authors.
    """

    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="copy_items")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=512)
    author = models.ForeignKey(
        Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField()
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="unique_copy_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.external_id} (copy of {self.mention_id})"


class StoryAuthor(models.Model):
    """An author seen in a story (as a member's or a copy's author), once.

    It lets a batch tell in a few lookups whether an author is new to a story, so
    that ``Story.author_count`` is counted as mentions arrive instead of recounted.
    """

    # The unique constraint's index (story first) serves lookups by story.
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="+", db_index=False)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["story", "author"], name="unique_story_author")
        ]

    def __str__(self) -> str:
        return f"{self.story_id}:{self.author_id}"
