"""Sentiment corrections and the heads each workspace retrains from them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from veilleur.accounts.models import Workspace
from veilleur.monitoring.models import Mention, Sentiment


class SentimentCorrection(models.Model):
    """A person's verdict on a mention's sentiment; the latest one per mention counts."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE,
                                  related_name="sentiment_corrections")
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="corrections")
    label = models.CharField(_("sentiment"), max_length=8, choices=Sentiment.choices)
    previous_label = models.CharField(max_length=8, blank=True)
    previous_model = models.CharField(max_length=64, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["workspace", "created_at"])]

    def __str__(self) -> str:
        return f"{self.mention_id}: {self.label}"


class HeadState(models.TextChoices):
    TRAINING = "training", _("Training")
    READY = "ready", _("Ready to switch on")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")
    FAILED = "failed", _("Failed")


class SentimentHead(models.Model):
    """One version of a workspace's sentiment head, trained from its corrections.

    A new version is never switched on by itself: its held-out accuracy on the
    workspace's own corrections is shown beside the shipped head's first.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE,
                                  related_name="sentiment_heads")
    version = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=HeadState.choices, default=HeadState.TRAINING)
    created_at = models.DateTimeField(default=timezone.now)
    trained_at = models.DateTimeField(null=True, blank=True)
    corrections = models.PositiveIntegerField(default=0)
    # Cross-validated on the corrections: the new head vs the shipped head on the same texts.
    heldout_accuracy = models.FloatField(null=True, blank=True)
    base_accuracy = models.FloatField(null=True, blank=True)
    heldout_macro_f1 = models.FloatField(null=True, blank=True)
    base_macro_f1 = models.FloatField(null=True, blank=True)
    weights = models.BinaryField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "version"], name="unique_head_version"),
        ]

    def __str__(self) -> str:
        return self.model_name

    @property
    def model_name(self) -> str:
        return f"ws{self.workspace_id}-v{self.version}"
