"""Read-side helpers of the sentiment model page and API: counts, heads, recent corrections.

Each one is a single query scoped to one workspace. ``corrected_count`` counts what
``corrections.latest_corrections`` returns (one per corrected mention) without
loading the corrections and their mentions.
"""

from __future__ import annotations

from django.db.models import QuerySet

from veilleur.accounts.models import Workspace
from veilleur.sentiment.models import SentimentCorrection, SentimentHead

RECENT_CORRECTIONS = 20


def corrected_count(workspace: Workspace) -> int:
    """How many mentions of the workspace a person corrected (the training set's size)."""
    return (
        SentimentCorrection.objects.filter(workspace=workspace)
        .order_by().values("mention_id").distinct().count()
    )


def heads_of(workspace: Workspace) -> QuerySet[SentimentHead]:
    """The workspace's head versions, newest first, without their weights."""
    return (
        SentimentHead.objects.filter(workspace=workspace)
        .defer("weights").select_related("activated_by").order_by("-version")
    )


def recent_corrections(
    workspace: Workspace, limit: int = RECENT_CORRECTIONS
) -> list[SentimentCorrection]:
    """The latest corrections, newest first, with their mention and author."""
    return list(
        SentimentCorrection.objects.filter(workspace=workspace)
        .select_related("mention", "user")
        .defer("mention__embedding", "mention__signature", "mention__extra")
        .order_by("-created_at", "-pk")[:limit]
    )
