"""What an inbound webhook accepted, kept until the webhook connector has read it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from veilleur.monitoring.models import Source


class WebhookDelivery(models.Model):
    """One accepted POST: its validated items, waiting for (or read by) a poll.

    The endpoint answers 202 only once this row is committed, and the webhook
    connector reads rows in id order past the source's cursor: the pipeline commits
    the cursor with the mentions, so an accepted item is stored exactly once.
    ``delivery_id`` is the sender's ``X-Veilleur-Delivery`` header, or the signature
    when it sent none, so a replayed request is recognised either way. ``signature``
    is the request's signature: the delivery id header is not signed, so a captured
    request replayed under a made-up id is recognised by it.
    """

    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    delivery_id = models.CharField(max_length=200)
    signature = models.CharField(max_length=80, blank=True, default="")
    received_at = models.DateTimeField(default=timezone.now)
    # The sender's X-Veilleur-Timestamp: when it signed the request.
    signed_at = models.DateTimeField()
    items = models.JSONField(default=list)  # validated items (veilleur.hooks.payload)
    item_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "delivery_id"], name="unique_webhook_delivery"
            ),
            models.UniqueConstraint(
                fields=["source", "signature"], condition=~models.Q(signature=""),
                name="unique_webhook_signature",
            ),
        ]
        indexes = [models.Index(fields=["source", "id"], name="hooks_delivery_source_id")]

    def __str__(self) -> str:
        return f"delivery {self.pk} of source {self.source_id} ({self.item_count} items)"
