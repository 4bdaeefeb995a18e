"""Daily and weekly digests: one message per destination with the period's incidents.

A rule whose ``digest`` is ``daily`` or ``weekly`` does not alert signal by signal:
:func:`send_digests` gathers, over the period that ends at ``now`` (one day or seven),
the signals that the rule matches (watch, kinds, severity; false alarms left out) and
the incidents of its watches that opened, changed or resolved, and sends each of the
rules' destinations one message. Running it twice for the same period sends nothing
the second time. Quiet hours, cooldown and rate limit apply to immediate alerts only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q

from veilleur.accounts.models import Workspace
from veilleur.crisis.alert_text import DigestEntry, render_digest
from veilleur.crisis.delivery import Context, send
from veilleur.crisis.models import (
    AlertDelivery,
    AlertDestination,
    AlertRule,
    DeliveryStatus,
    DigestFrequency,
    Incident,
    Signal,
)

PERIODS = {DigestFrequency.DAILY: timedelta(days=1), DigestFrequency.WEEKLY: timedelta(days=7)}
# A second run within this share of the period is a repeat, not the next digest.
REPEAT_SHARE = 0.8


def _rule_items(rule: AlertRule, start: datetime,
                now: datetime) -> tuple[list[Signal], list[Incident]]:
    """The signals and incidents of the period that this rule matches."""
    watch_filter = Q(watch_id=rule.watch_id) if rule.watch_id else Q()
    signals = (Signal.objects
               .filter(watch_filter, workspace_id=rule.workspace_id, false_alarm=False,
                       window_end__gt=start, window_end__lte=now)
               .select_related("watch", "incident", "incident__watch"))
    if rule.kinds:
        signals = signals.filter(kind__in=rule.kinds)
    kept = [s for s in signals
            if (s.incident.severity if s.incident else s.severity) <= rule.max_severity]
    changed = Q(opened_at__gt=start, opened_at__lte=now) | Q(
        updated_at__gt=start, updated_at__lte=now) | Q(resolved_at__gt=start,
                                                       resolved_at__lte=now)
    incidents = list(Incident.objects
                     .filter(watch_filter, changed, workspace_id=rule.workspace_id,
                             severity__lte=rule.max_severity)
                     .select_related("watch"))
    return kept, incidents


def _entries(signals: dict[int, Signal], incidents: dict[int, Incident]) -> list[DigestEntry]:
    """Incidents by severity then opening time, each with its signals; loose signals last."""
    by_incident: dict[int | None, list[Signal]] = {}
    for signal in sorted(signals.values(), key=lambda s: (s.window_end, s.pk)):
        key = signal.incident_id
        if key is not None and key not in incidents and signal.incident is not None:
            incidents[key] = signal.incident
        by_incident.setdefault(key, []).append(signal)
    ordered = sorted(incidents.values(), key=lambda i: (i.severity, i.opened_at, i.pk))
    entries = [DigestEntry(incident=i, signals=by_incident.get(i.pk, [])) for i in ordered]
    if by_incident.get(None):
        entries.append(DigestEntry(incident=None, signals=by_incident[None]))
    return entries


def send_digests(workspace: Workspace, frequency: str, now: datetime) -> list[AlertDelivery]:
    """Send the ``daily`` or ``weekly`` digest of ``workspace`` for the period ending at ``now``.

    Returns the delivery rows created (one per try and destination). A destination with
    nothing to report, or already sent this period's digest, gets nothing.
    """
    kind = DigestFrequency(frequency)  # ValueError for an unknown frequency
    if kind not in PERIODS:
        raise ValueError(f"not a digest frequency: {frequency!r}")
    period = PERIODS[kind]
    start = now - period
    rules = (AlertRule.objects.filter(workspace=workspace, enabled=True, digest=kind)
             .select_related("watch").prefetch_related("destinations").order_by("pk"))

    # destination id -> (destination, first rule, signals by id, incidents by id)
    gathered: dict[int, tuple[AlertDestination, AlertRule, dict[int, Signal],
                              dict[int, Incident]]] = {}
    for rule in rules:
        signals, incidents = _rule_items(rule, start, now)
        for destination in rule.destinations.all():
            if not destination.enabled or destination.workspace_id != workspace.pk:
                continue
            _d, _r, by_signal, by_incident = gathered.setdefault(
                destination.pk, (destination, rule, {}, {}))
            by_signal.update((s.pk, s) for s in signals)
            by_incident.update((i.pk, i) for i in incidents)

    rows: list[AlertDelivery] = []
    for destination, rule, by_signal, by_incident in gathered.values():
        if not by_signal and not by_incident:
            continue
        already = AlertDelivery.objects.filter(
            destination=destination, is_digest=True, status=DeliveryStatus.SENT,
            rule__digest=kind, at__gt=now - period * REPEAT_SHARE, at__lte=now)
        if already.exists():
            continue
        text = render_digest(workspace.name, kind, _entries(by_signal, by_incident),
                             start, now, destination.language)
        rows += send(destination, text.title, text.body, Context(rule=rule, is_digest=True),
                     now)
    return rows
