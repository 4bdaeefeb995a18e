"""The detectors' background task (Django Tasks API): one watch at a time."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from veilleur.monitoring.models import Watch


@task()
def run_detectors_task(watch_id: int) -> list[int]:
    """Run a watch's detectors up to now; returns the ids of the signals recorded."""
    from veilleur.crisis.runner import run_watch

    watch = Watch.objects.select_related("workspace").filter(pk=watch_id, is_active=True).first()
    if watch is None:
        return []
    return [found.signal.pk for found in run_watch(watch, timezone.now())]
