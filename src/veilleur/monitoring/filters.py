"""The mention filters of the mentions page: a plain form, scoped to one workspace.

Every choice offered (watches, sources) comes from the current workspace only, so
an id from another workspace is an invalid choice, never a way to read across.
Dates are calendar days in the display time zone; ``date_to`` is inclusive.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from veilleur.accounts.models import Workspace
from veilleur.monitoring.models import Mention, Sentiment, Source, Watch
from veilleur.monitoring.queries import MentionFilter, filter_mentions

MAX_QUERY_CHARS = 200
# Language codes are short ISO codes, or "other" (a language outside the workspace's
# list, veilleur.analysis.nlp.OTHER); anything else is not a language filter.
MAX_LANG_CHARS = 8
OTHER_LANGUAGE = "other"
LANG_PATTERN = rf"(?:[a-z]{{2,3}}(?:-[a-z0-9]{{2,4}})?|{OTHER_LANGUAGE})"
LANG_CODE = RegexValidator(
    rf"^{LANG_PATTERN}\Z", _("Enter a language code such as fr or en.")
)


def language_label(code: str) -> str:
    """A language's name in the interface language, or its code when unknown."""
    if code == OTHER_LANGUAGE:
        return str(_("Other"))
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code.upper()


def language_choices(workspace: Workspace, also: str = "") -> list[tuple[str, str]]:
    """The interface languages, every language seen in the workspace, and ``also``."""
    seen = set(
        Mention.objects.for_workspace(workspace)
        .exclude(lang="")
        .order_by()  # without it, the model's ordering fields join the DISTINCT
        .values_list("lang", flat=True)
        .distinct()
    )
    codes = sorted(seen | {code for code, _name in settings.LANGUAGES} | ({also} - {""}))
    return [(code, language_label(code)) for code in codes if len(code) <= MAX_LANG_CHARS]


class MentionFilterForm(forms.Form):
    """Watch, source, language, sentiment, date range and free text."""

    watch = forms.ModelChoiceField(
        label=_("Watch"), queryset=Watch.objects.none(), required=False,
        empty_label=_("All watches"),
    )
    source = forms.ModelChoiceField(
        label=_("Source"), queryset=Source.objects.none(), required=False,
        empty_label=_("All sources"),
    )
    # A plain code, not a closed choice: validating it must not cost a query (the live
    # poll validates the filters every few seconds); the page lists the known codes.
    lang = forms.CharField(
        label=_("Language"), required=False, max_length=MAX_LANG_CHARS,
        validators=[LANG_CODE], widget=forms.Select,
    )
    sentiment = forms.ChoiceField(label=_("Sentiment"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
    )
    q = forms.CharField(
        label=_("Search"), required=False, max_length=MAX_QUERY_CHARS, strip=True,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("e.g. refund")}),
    )

    def __init__(
        self, data: Any, workspace: Workspace, *, with_choices: bool = True, **kwargs: Any
    ) -> None:
        """``with_choices=False`` skips listing the languages seen (not needed to filter)."""
        super().__init__(data, **kwargs)
        self.workspace = workspace
        fields = self.fields
        fields["watch"].queryset = Watch.objects.for_workspace(workspace)  # type: ignore[attr-defined]
        fields["source"].queryset = Source.objects.for_workspace(workspace)  # type: ignore[attr-defined]
        if with_choices:
            # A valid code typed in the URL stays selected even if no mention has it yet.
            wanted = str(self.data.get("lang", ""))
            also = wanted if re.fullmatch(LANG_PATTERN, wanted) else ""
            choices = [("", _("All languages")), *language_choices(workspace, also)]
            fields["lang"].widget.choices = choices  # type: ignore[attr-defined]
        fields["sentiment"].choices = [("", _("Any sentiment")), *Sentiment.choices]  # type: ignore[attr-defined]
        # Date pickers send ISO dates whatever the interface language.
        for name in ("date_from", "date_to"):
            fields[name].input_formats = ["%Y-%m-%d", *fields[name].input_formats]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date must not be before the start date."))
        return cleaned

    @property
    def is_filtering(self) -> bool:
        """True when at least one filter has a valid, non-empty value."""
        self.is_valid()
        return any(v not in (None, "") for v in getattr(self, "cleaned_data", {}).values())

    def to_filter(self) -> MentionFilter:
        """The valid filters as a MentionFilter (invalid ones are shown as errors)."""
        self.is_valid()  # fills cleaned_data with the fields that are valid
        data = getattr(self, "cleaned_data", {})
        date_from, date_to = data.get("date_from"), data.get("date_to")
        return MentionFilter(
            watch_id=data["watch"].pk if data.get("watch") else None,
            source_id=data["source"].pk if data.get("source") else None,
            lang=data.get("lang") or "",
            sentiment=data.get("sentiment") or "",
            since=start_of_day(date_from) if date_from else None,
            until=start_of_day(date_to + timedelta(days=1)) if date_to else None,
            text=data.get("q") or "",
        )

    def apply(self, mentions: QuerySet[Mention]) -> QuerySet[Mention]:
        """Narrow ``mentions`` by the valid filters."""
        return filter_mentions(mentions, self.to_filter())


def start_of_day(day: date) -> datetime:
    """Midnight of ``day`` in the display time zone, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())
