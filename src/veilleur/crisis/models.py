"""Signals, incidents and alerts: the crisis app's data (issue 5, DESIGN.md).

A detector's **signal** says what is unusual on a watch and why. Signals open or
update the watch's one ongoing **incident**, whose every change is an
**incident event** (the timeline and the audit trail). **Alert rules** say which
signals reach which **destinations** (Apprise URLs), and every attempt to deliver is
an **alert delivery** row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from veilleur.accounts.models import Workspace
from veilleur.monitoring.models import Mention, Story, Watch


class SignalKind(models.TextChoices):
    VOLUME = "volume", _("Volume spike")
    NEGATIVE_SHIFT = "negative_shift", _("Negative shift")
    HIGH_REACH = "high_reach", _("High-reach negative mention")
    VOCABULARY = "vocabulary", _("Crisis vocabulary")
    EMERGING_STORY = "emerging_story", _("Emerging story")
    SLOW_RISE = "slow_rise", _("Sustained rise")


class Signal(models.Model):
    """One detector firing on one watch for one window, with its explanation."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="signals")
    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="signals")
    kind = models.CharField(_("kind"), max_length=24, choices=SignalKind.choices)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField(db_index=True)
    observed = models.FloatField()
    expected = models.FloatField()
    # Probability-like strength in [0, 1] (1 - tail probability, or a detector's score).
    confidence = models.FloatField()
    # 1 (most severe) to 4, from strength and reach.
    severity = models.PositiveSmallIntegerField(default=4)
    # Top new terms and hashtags, sources, authors, sentiment split, example mention ids.
    explanation = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    incident = models.ForeignKey("Incident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="signals")
    false_alarm = models.BooleanField(default=False)
    false_alarm_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    false_alarm_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-window_end", "-pk"]
        constraints = [
            # A detector re-run over the same window must not fire twice.
            models.UniqueConstraint(fields=["watch", "kind", "window_end"],
                                    name="one_signal_per_watch_kind_window"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.watch_id} at {self.window_end:%Y-%m-%d %H:%M}"


class IncidentState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESPONDING = "responding", _("Responding")
    MONITORING = "monitoring", pgettext_lazy("incident state", "Monitoring")
    RESOLVED = "resolved", _("Resolved")


# Which state may follow which; a resolved incident can be reopened.
TRANSITIONS: dict[str, frozenset[str]] = {
    IncidentState.OPEN: frozenset({IncidentState.ACKNOWLEDGED, IncidentState.RESPONDING,
                                   IncidentState.MONITORING, IncidentState.RESOLVED}),
    IncidentState.ACKNOWLEDGED: frozenset({IncidentState.RESPONDING, IncidentState.MONITORING,
                                           IncidentState.RESOLVED}),
    IncidentState.RESPONDING: frozenset({IncidentState.MONITORING, IncidentState.RESOLVED}),
    IncidentState.MONITORING: frozenset({IncidentState.RESPONDING, IncidentState.RESOLVED}),
    IncidentState.RESOLVED: frozenset({IncidentState.OPEN}),
}


class Incident(models.Model):
    """One ongoing event on a watch: at most one unresolved incident per watch."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="incidents")
    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="incidents")
    # The kind of the signal that opened it: the title is composed from it and the
    # watch's name in the reader's language (``display_title``). ``title`` keeps the
    # words written at creation (the scheduler's language), a fallback for incidents
    # whose kind is unknown; nothing user-facing shows it otherwise.
    kind = models.CharField(_("kind"), max_length=24, choices=SignalKind.choices, blank=True)
    title = models.CharField(_("title"), max_length=200)
    severity = models.PositiveSmallIntegerField(_("severity"), default=4)
    state = models.CharField(_("state"), max_length=16, choices=IncidentState.choices,
                             default=IncidentState.OPEN)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="owned_incidents")
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    mentions = models.ManyToManyField(Mention, blank=True, related_name="incidents")
    stories = models.ManyToManyField(Story, blank=True, related_name="incidents")

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["watch"], condition=~models.Q(state="resolved"),
                name="one_ongoing_incident_per_watch",
            ),
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        """"Volume spike on Fibrelune", in the active language (the page's, the API
        caller's, or the alert destination's under ``translation.override``)."""
        if self.kind in SignalKind.values:
            return gettext("%(kind)s on %(watch)s") % {"kind": SignalKind(self.kind).label,
                                                       "watch": self.watch.name}
        return self.title


class IncidentEvent(models.Model):
    """The timeline: signals, state changes, notes, owner and severity changes."""

    class Kind(models.TextChoices):
        SIGNAL = "signal", _("Signal")
        STATE = "state", _("State change")
        NOTE = "note", _("Note")
        OWNER = "owner", _("Owner change")
        SEVERITY = "severity", _("Severity change")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    from_value = models.CharField(max_length=32, blank=True)
    to_value = models.CharField(max_length=32, blank=True)
    note = models.TextField(blank=True)
    signal = models.ForeignKey(Signal, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


class AlertDestination(models.Model):
    """Where alerts go: one Apprise URL (mailto://, slack://, ntfy://, json://, ...)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE,
                                  related_name="alert_destinations")
    name = models.CharField(_("name"), max_length=120)
    # Apprise URLs often carry tokens: never shown whole in the UI, never logged.
    url = models.TextField(_("Apprise URL"))
    language = models.CharField(_("language"), max_length=8, default="en")
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DigestFrequency(models.TextChoices):
    NONE = "", _("No digest")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


class AlertRule(models.Model):
    """Which signals of which watch reach which destinations, and how often."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="alert_rules")
    watch = models.ForeignKey(Watch, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="alert_rules", help_text=_("Empty: every watch."))
    kinds = models.JSONField(_("signal kinds"), default=list, blank=True,
                             help_text=_("Empty: every kind."))
    # Alert when the incident's severity is at least this serious (1 = most severe).
    max_severity = models.PositiveSmallIntegerField(_("up to severity"), default=3)
    destinations = models.ManyToManyField(AlertDestination, related_name="rules")
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    cooldown_minutes = models.PositiveIntegerField(_("cooldown (minutes)"), default=30)
    max_per_hour = models.PositiveIntegerField(_("at most per hour and destination"), default=6)
    digest = models.CharField(_("digest"), max_length=8, choices=DigestFrequency.choices,
                              default=DigestFrequency.NONE, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"rule {self.pk}"


class DeliveryStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Suppressed")


class AlertDelivery(models.Model):
    """One attempt to deliver one alert (or digest) to one destination."""

    destination = models.ForeignKey(AlertDestination, on_delete=models.CASCADE,
                                    related_name="deliveries")
    rule = models.ForeignKey(AlertRule, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="deliveries")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="deliveries")
    signal = models.ForeignKey(Signal, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="deliveries")
    is_digest = models.BooleanField(default=False)
    attempt = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices)
    # Why it was suppressed (quiet hours, cooldown, rate limit) or the error, in words.
    reason = models.TextField(blank=True)
    title = models.CharField(max_length=250, blank=True)
    body = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.status} to {self.destination_id}"


class DetectorState(models.Model):
    """Where a watch's detectors are: their learned baselines and the last bucket seen."""

    watch = models.OneToOneField(Watch, on_delete=models.CASCADE, related_name="detector_state")
    state = models.JSONField(default=dict, blank=True)
    last_bucket_end = models.DateTimeField(null=True, blank=True)
    # A lease, as for sources: two schedulers never run one watch's detectors at once.
    lease_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"detectors of watch {self.watch_id}"
