"""Background tasks of the monitoring app (Django Tasks API, backend from settings)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.utils import timezone
from django_tasks import task

from veilleur.monitoring.matching import rematch_watch
from veilleur.monitoring.models import Watch
from veilleur.monitoring.pipeline import poll_source


@task()
def poll_source_task(source_id: int) -> dict[str, Any]:
    """Poll one source and store what it returned; the report is the task's result."""
    return asdict(poll_source(source_id))


@task()
def rematch_watch_task(watch_id: int) -> int:
    """Apply a watch's (new) query to its workspace's recent mentions; returns matches."""
    watch = Watch.objects.select_related("workspace").filter(pk=watch_id).first()
    if watch is None:
        return 0
    return rematch_watch(watch, timezone.now())
