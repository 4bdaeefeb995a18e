"""Background tasks of the crisis app (Django Tasks API, backend from settings).

Alerts are sent from a task so that a slow or failing destination (retries with a
short backoff) never holds up ingestion and detection.
"""

from __future__ import annotations

from collections import Counter

from django.utils import timezone
from django_tasks import task

from veilleur.accounts.models import Workspace
from veilleur.crisis.alerts import alert_for_incident
from veilleur.crisis.digests import send_digests
from veilleur.crisis.models import AlertRule, Incident, Signal


@task()
def deliver_alerts_task(incident_id: int, signal_id: int) -> dict[str, int]:
    """Alert the destinations that the rules route this signal to; counts rows by status."""
    incident = Incident.objects.select_related("watch", "workspace").filter(pk=incident_id).first()
    signal = Signal.objects.filter(pk=signal_id).first()
    if incident is None or signal is None:
        return {}
    rows = alert_for_incident(incident, signal, timezone.now())
    return dict(Counter(str(row.status) for row in rows))


@task()
def send_digests_task(frequency: str) -> dict[str, int]:
    """Send the ``daily`` or ``weekly`` digest of every workspace that has such a rule."""
    now = timezone.now()
    ids = (AlertRule.objects.filter(enabled=True, digest=frequency)
           .values_list("workspace_id", flat=True).distinct())
    counts: Counter[str] = Counter()
    for workspace in Workspace.objects.filter(pk__in=list(ids)).order_by("pk"):
        counts.update(str(row.status) for row in send_digests(workspace, frequency, now))
    return dict(counts)
