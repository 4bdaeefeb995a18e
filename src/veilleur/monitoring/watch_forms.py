"""The watch editor's form: name, query (validated by the query language), languages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from veilleur.accounts.models import Workspace
from veilleur.analysis.query import MAX_QUERY_CHARS, QuerySyntaxError, compile_query
from veilleur.monitoring.models import Watch


def query_error_message(error: QuerySyntaxError) -> str:
    """The parser's message in the interface language (it ships its own FR/EN texts)."""
    return error.message(get_language() or settings.LANGUAGE_CODE)


class WatchForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        label=_("Languages"), required=False, choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty to follow mentions in every language."),
    )

    class Meta:
        model = Watch
        fields = ["name", "query", "languages", "is_active"]
        widgets = {"query": forms.Textarea(attrs={"rows": 4, "spellcheck": "false"})}

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.fields["query"].max_length = MAX_QUERY_CHARS  # type: ignore[attr-defined]
        self.fields["query"].widget.attrs["maxlength"] = MAX_QUERY_CHARS

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        clash = Watch.objects.for_workspace(self.workspace).filter(name=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(_("A watch with this name already exists."))
        return name

    def clean_query(self) -> str:
        query = str(self.cleaned_data["query"]).strip()
        try:
            compile_query(query)
        except QuerySyntaxError as exc:
            raise forms.ValidationError(query_error_message(exc)) from None
        return query

    def save(self, commit: bool = True) -> Watch:
        watch: Watch = super().save(commit=False)
        watch.workspace = self.workspace
        if commit:
            watch.save()
        return watch
