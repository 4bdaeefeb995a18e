"""Background tasks of the monitoring app (Django Tasks API, backend from settings)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django_tasks import task

from veilleur.monitoring.pipeline import poll_source


@task()
def poll_source_task(source_id: int) -> dict[str, Any]:
    """Poll one source and store what it returned; the report is the task's result."""
    return asdict(poll_source(source_id))
