"""Which signals reach whom, and when not: alert rules, quiet hours, cooldown, rate limit.

:func:`alert_for_incident` is called once a signal has opened or updated an incident.
For every enabled rule of the workspace that matches the signal (watch, kind, incident
severity) and every enabled destination of the rule, it either sends the alert or
stores a ``suppressed`` delivery row that says why, in the destination's language:

- **quiet hours** (``quiet_start``-``quiet_end`` in ``settings.TIME_ZONE``, may span
  midnight); an incident of severity 1 overrides them;
- **cooldown**: this rule already alerted this destination about this incident less than
  ``cooldown_minutes`` ago, unless the incident became more severe since;
- **rate limit**: the destination already received ``max_per_hour`` alerts in the last
  hour, across rules (0 means no limit).

Rules with a digest frequency do not alert one by one: their signals go into the
daily or weekly digest (:mod:`veilleur.crisis.digests`). Time is always the ``now``
argument, never the clock.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import formats, translation
from django.utils.translation import gettext as _

from veilleur.crisis.alert_text import local_zone, render_alert
from veilleur.crisis.delivery import Context, masked_url, send
from veilleur.crisis.digests import send_digests
from veilleur.crisis.models import (
    AlertDelivery,
    AlertDestination,
    AlertRule,
    DeliveryStatus,
    DigestFrequency,
    Incident,
    IncidentEvent,
    Signal,
)

__all__ = ["alert_for_incident", "masked_url", "matching_rules", "send_digests"]


def matching_rules(incident: Incident, signal: Signal) -> list[AlertRule]:
    """Enabled immediate (non-digest) rules of the workspace that this signal triggers."""
    rules = (AlertRule.objects
             .filter(workspace_id=incident.workspace_id, enabled=True,
                     digest=DigestFrequency.NONE)
             .filter(Q(watch_id=incident.watch_id) | Q(watch__isnull=True))
             .prefetch_related("destinations")
             .order_by("pk"))
    return [rule for rule in rules
            if (not rule.kinds or signal.kind in rule.kinds)
            and incident.severity <= rule.max_severity]


def in_quiet_hours(rule: AlertRule, now: datetime) -> bool:
    """Whether ``now`` (local time) falls in the rule's quiet hours; they may span midnight."""
    start, end = rule.quiet_start, rule.quiet_end
    if start is None or end is None or start == end:
        return False
    local: time = now.astimezone(local_zone()).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _escalated_since(incident: Incident, since: datetime, now: datetime) -> bool:
    """Whether the incident became more severe (a smaller number) after ``since``."""
    events = IncidentEvent.objects.filter(incident=incident, kind=IncidentEvent.Kind.SEVERITY,
                                          at__gt=since, at__lte=now)
    for event in events:
        try:
            if int(event.to_value) < int(event.from_value):
                return True
        except ValueError:
            continue
    return False


def _hhmm(value: time) -> str:
    return formats.time_format(value, "H:i")


def suppression(rule: AlertRule, destination: AlertDestination, incident: Incident,
                now: datetime) -> str:
    """Why this alert must not go out now, in words (active language); empty: send it."""
    if incident.severity != 1 and in_quiet_hours(rule, now):
        assert rule.quiet_start is not None and rule.quiet_end is not None
        return _("Quiet hours (%(start)s–%(end)s, %(zone)s): only severity 1 alerts are "
                 "sent.") % {"start": _hhmm(rule.quiet_start), "end": _hhmm(rule.quiet_end),
                             "zone": settings.TIME_ZONE}
    if rule.cooldown_minutes:
        last = (AlertDelivery.objects
                .filter(incident=incident, rule=rule, destination=destination,
                        status=DeliveryStatus.SENT, is_digest=False,
                        at__gt=now - timedelta(minutes=rule.cooldown_minutes), at__lte=now)
                .order_by("-at").first())
        if last is not None and not _escalated_since(incident, last.at, now):
            return _("Cooldown: this incident was already alerted here at %(when)s, less than "
                     "%(minutes)s minutes ago.") % {
                "when": _hhmm(last.at.astimezone(local_zone()).time()),
                "minutes": rule.cooldown_minutes}
    if rule.max_per_hour:
        sent = AlertDelivery.objects.filter(
            destination=destination, status=DeliveryStatus.SENT, is_digest=False,
            signal__isnull=False,  # test messages do not count
            at__gt=now - timedelta(hours=1), at__lte=now).count()
        if sent >= rule.max_per_hour:
            return _("Rate limit: %(sent)s alerts already sent to this destination in the last "
                     "hour (at most %(limit)s).") % {"sent": sent, "limit": rule.max_per_hour}
    return ""


def alert_for_incident(incident: Incident, signal: Signal, now: datetime) -> list[AlertDelivery]:
    """Alert every destination that the rules route this signal to; returns the new rows.

    A destination reached by several rules gets one alert per signal (the first rule,
    by id, decides). Network sends happen outside any transaction.
    """
    rows: list[AlertDelivery] = []
    reached: set[int] = set()
    for rule in matching_rules(incident, signal):
        for destination in rule.destinations.all():
            if (not destination.enabled or destination.pk in reached
                    or destination.workspace_id != incident.workspace_id):
                continue
            reached.add(destination.pk)
            context = Context(rule=rule, incident=incident, signal=signal)
            language = destination.language or settings.LANGUAGE_CODE
            with translation.override(language):
                reason = suppression(rule, destination, incident, now)
            text = render_alert(incident, signal, language)
            if reason:
                # The title says in the delivery log what was held back.
                rows.append(AlertDelivery.objects.create(
                    destination=destination, rule=rule, incident=incident, signal=signal,
                    attempt=1, status=DeliveryStatus.SUPPRESSED, reason=reason,
                    title=text.title[:250], at=now))
                continue
            rows += send(destination, text.title, text.body, context, now)
    return rows
