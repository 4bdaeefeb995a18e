"""Forms of the alert settings pages: destinations (Apprise URLs) and alert rules.

A destination's URL carries secrets, so its field never renders a value back (not
even the one just typed when the form has an error), and on edit a blank URL keeps
the stored one. Rules only offer, and only accept, the workspace's own watches and
destinations: a forged id of another workspace is "not a valid choice".
"""

from __future__ import annotations

from typing import Any

import apprise
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from veilleur.accounts.models import Workspace
from veilleur.crisis.models import AlertDestination, AlertRule, DigestFrequency, SignalKind
from veilleur.monitoring.models import Watch

MAX_URL_CHARS = 2000
MAX_COOLDOWN_MINUTES = 7 * 24 * 60
MAX_PER_HOUR = 1000
SEVERITY_CHOICES = [
    (1, _("1 — only the most severe incidents")),
    (2, _("2 — severity 1 or 2")),
    (3, _("3 — severity 1 to 3")),
    (4, _("4 — every incident")),
]


class SecretInput(forms.TextInput):
    """A text input that never writes its value into the page (the URL holds secrets)."""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context(name, None, attrs)
        return context


def apprise_url_count(url: str) -> int:
    """How many notification services Apprise reads in ``url`` (0: it cannot read it)."""
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return 0
    return len(notifier)


class DestinationForm(forms.ModelForm):
    url = forms.CharField(
        label=_("Apprise URL"), required=False, max_length=MAX_URL_CHARS, strip=True,
        widget=SecretInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                  "autocapitalize": "off"}),
    )
    language = forms.ChoiceField(
        label=_("Language of the alerts"), choices=settings.LANGUAGES,
        help_text=_("Alerts and digests sent here are written in this language."),
    )

    class Meta:
        model = AlertDestination
        fields = ["name", "url", "language"]

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.stored_url = self.instance.url if self.instance.pk else ""
        url_field = self.fields["url"]
        if self.instance.pk:
            url_field.help_text = _(
                "Leave empty to keep the current URL; it is never shown again because it "
                "holds passwords or tokens.")
        else:
            url_field.required = True
            url_field.error_messages["required"] = _("Enter the Apprise URL of the destination.")
            url_field.help_text = _(
                "For example mailtos://user:password@smtp.example.org?to=crisis@example.org, "
                "slack://…, ntfys://ntfy.example.org/topic or jsons://hooks.example.org/path. "
                "It is never shown again once saved.")

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        clash = AlertDestination.objects.filter(workspace=self.workspace, name=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(_("A destination with this name already exists."))
        return name

    def clean_url(self) -> str:
        url = str(self.cleaned_data.get("url") or "").strip()
        if not url:
            if self.stored_url:
                return self.stored_url  # blank on edit: keep the stored URL
            raise forms.ValidationError(_("Enter the Apprise URL of the destination."))
        # Never echo the URL in the error: it may hold a password or a token.
        count = apprise_url_count(url)
        if count == 0:
            raise forms.ValidationError(_(
                "Apprise cannot read this URL. Check the scheme (mailto://, slack://, "
                "ntfy://, json://, …) and the parts the service requires (tokens, host, "
                "recipients), as described in the Apprise documentation."))
        if count > 1:
            raise forms.ValidationError(_(
                "Enter one URL only: create one destination per service."))
        return url

    def url_changed(self) -> bool:
        """Whether a new URL was typed (a blank field on edit keeps the stored one)."""
        return self.cleaned_data.get("url", "") != self.stored_url

    def save(self, commit: bool = True) -> AlertDestination:
        destination: AlertDestination = super().save(commit=False)
        destination.workspace = self.workspace
        if commit:
            destination.save()
        return destination


class RuleForm(forms.ModelForm):
    watch = forms.ModelChoiceField(
        label=_("Watch"), queryset=Watch.objects.none(), required=False,
        empty_label=_("Every watch"),
    )
    kinds = forms.MultipleChoiceField(
        label=_("Signal kinds"), choices=SignalKind.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: every kind."),
    )
    max_severity = forms.TypedChoiceField(
        label=_("Up to severity"), choices=SEVERITY_CHOICES, coerce=int, initial=3,
        help_text=_("1 is the most severe, 4 the least: an incident must be at least this "
                    "serious to alert."),
    )
    destinations = forms.ModelMultipleChoiceField(
        label=_("Destinations"), queryset=AlertDestination.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    quiet_start = forms.TimeField(
        label=_("Quiet hours from"), required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours until"), required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    cooldown_minutes = forms.IntegerField(
        label=_("Cooldown (minutes)"), min_value=0, max_value=MAX_COOLDOWN_MINUTES, initial=30,
        help_text=_("No new alert about the same incident to the same destination for this "
                    "long, unless it became more severe. 0: no cooldown."),
    )
    max_per_hour = forms.IntegerField(
        label=_("At most per hour and destination"), min_value=0, max_value=MAX_PER_HOUR,
        initial=6, help_text=_("Counts every rule's alerts to a destination. 0: no limit."),
    )
    digest = forms.ChoiceField(
        label=_("Digest"), choices=DigestFrequency.choices, required=False,
        help_text=_("With a digest, this rule sends no alert one by one: its signals go "
                    "into a daily or weekly summary."),
    )

    class Meta:
        model = AlertRule
        fields = ["watch", "kinds", "max_severity", "destinations", "quiet_start",
                  "quiet_end", "cooldown_minutes", "max_per_hour", "digest", "enabled"]

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        # Only this workspace's watches and destinations are choices, so a forged id of
        # another workspace fails validation as "not one of the available choices".
        watch_field: Any = self.fields["watch"]
        watch_field.queryset = Watch.objects.for_workspace(workspace).order_by("name")
        destinations_field: Any = self.fields["destinations"]
        destinations_field.queryset = AlertDestination.objects.filter(workspace=workspace)
        self.fields["quiet_start"].help_text = _(
            "Local time (%(zone)s). Only severity 1 is sent in the window, which may span "
            "midnight. Leave both empty for no quiet hours.") % {"zone": settings.TIME_ZONE}

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        start, end = cleaned.get("quiet_start"), cleaned.get("quiet_end")
        if (start is None) != (end is None) and "quiet_start" not in self.errors \
                and "quiet_end" not in self.errors:
            raise forms.ValidationError(
                _("Give both ends of the quiet hours, or neither."))
        return cleaned

    def save(self, commit: bool = True) -> AlertRule:
        rule: AlertRule = super().save(commit=False)
        rule.workspace = self.workspace
        rule.digest = self.cleaned_data.get("digest") or DigestFrequency.NONE
        if commit:
            rule.save()
            self.save_m2m()
        return rule
