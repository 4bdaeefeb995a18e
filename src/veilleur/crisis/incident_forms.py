"""The filters of the incidents list: ongoing, resolved or all, and one watch."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from veilleur.accounts.models import Workspace
from veilleur.crisis.models import Incident, IncidentState
from veilleur.monitoring.models import Watch

ONGOING, RESOLVED, ALL = "ongoing", "resolved", "all"


class IncidentFilterForm(forms.Form):
    """``?state=ongoing|resolved|all&watch=<id>``; anything invalid falls back to the default."""

    state = forms.ChoiceField(
        label=_("State"), required=False,
        choices=[(ONGOING, _("Ongoing")), (RESOLVED, _("Resolved")), (ALL, _("All"))],
    )
    watch = forms.ModelChoiceField(label=_("Watch"), required=False,
                                   queryset=Watch.objects.none(), empty_label=_("All watches"))

    def __init__(self, data: Any, *, workspace: Workspace) -> None:
        super().__init__(data)
        field = self.fields["watch"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Watch.objects.for_workspace(workspace).order_by("name")

    def _value(self, name: str) -> Any:
        # A field's clean value even when another field is invalid.
        self.is_valid()
        return self.cleaned_data.get(name)

    @property
    def chosen_state(self) -> str:
        return str(self._value("state") or ONGOING)

    @property
    def chosen_watch(self) -> Watch | None:
        watch = self._value("watch")
        return watch if isinstance(watch, Watch) else None

    def apply(self, incidents: QuerySet[Incident]) -> QuerySet[Incident]:
        """Ongoing incidents most severe first; resolved and all, newest first."""
        state = self.chosen_state
        if state == ONGOING:
            incidents = incidents.exclude(state=IncidentState.RESOLVED).order_by(
                "severity", "-opened_at", "-pk")
        elif state == RESOLVED:
            incidents = incidents.filter(state=IncidentState.RESOLVED).order_by(
                "-opened_at", "-pk")
        else:
            incidents = incidents.order_by("-opened_at", "-pk")
        watch = self.chosen_watch
        if watch is not None:
            incidents = incidents.filter(watch=watch)
        return incidents
