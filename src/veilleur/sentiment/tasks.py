"""Background work of the sentiment app (Django Tasks API)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from veilleur.accounts.models import Workspace
from veilleur.sentiment.corrections import NotEnoughCorrections, train_workspace_head


@task()
def train_workspace_head_task(workspace_id: int) -> int | None:
    """Train the next head of a workspace; returns its version (None if not enough data)."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return None
    try:
        return train_workspace_head(workspace, timezone.now()).version
    except NotEnoughCorrections:
        return None
