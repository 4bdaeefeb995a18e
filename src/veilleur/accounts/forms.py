"""Small forms behind the header controls: language and workspace switchers."""

from __future__ import annotations

from django import forms
from django.conf import settings

# A redirect target is a path on this site; anything longer is not one we wrote.
MAX_NEXT_CHARS = 2000


class LanguageForm(forms.Form):
    """The interface language chosen in the header (also on the login page)."""

    language = forms.ChoiceField(choices=settings.LANGUAGES)
    next = forms.CharField(required=False, max_length=MAX_NEXT_CHARS)


class WorkspaceSwitchForm(forms.Form):
    """The workspace to work in; membership is checked by the view, not here."""

    workspace = forms.IntegerField(min_value=1)
    next = forms.CharField(required=False, max_length=MAX_NEXT_CHARS)
