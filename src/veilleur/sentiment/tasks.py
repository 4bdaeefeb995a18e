"""Background work of the sentiment app (Django Tasks API)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from veilleur.accounts.models import Workspace
from veilleur.sentiment.corrections import (
    NotEnoughCorrections,
    retrain_due,
    train_workspace_head,
)


@task()
def train_workspace_head_task(workspace_id: int, force: bool = False) -> int | None:
    """Train the next head of a workspace; returns its version (None if nothing to do).

    Automatic requests are checked again here: several corrections in a row may each
    have queued one, and only the first still finds retraining due.
    """
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None or not (force or retrain_due(workspace_id)):
        return None
    try:
        return train_workspace_head(workspace, timezone.now()).version
    except NotEnoughCorrections:
        return None
