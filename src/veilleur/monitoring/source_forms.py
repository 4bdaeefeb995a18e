"""The source form, built from a connector's declared fields.

Each ``ConfigField`` becomes a form field (``config_<name>``) next to the source's
name, watch and poll interval. Django checks the types; the connector's own
``validate_config`` then has the last word, and its ``ConfigInvalid("field: why")``
is attached to that field so the page says which setting is wrong and keeps what
was typed.

Secrets are never rendered back: on edit a secret field is empty with the
placeholder "unchanged", and leaving it empty keeps the stored value. A secret
typed in a form that comes back with an error is kept on the server (encrypted, in
the session) rather than in the page; the page carries only a random token.
"""

from __future__ import annotations

import secrets as token_source
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.sessions.backends.base import SessionBase
from django.core import validators
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from veilleur.accounts.models import Workspace
from veilleur.connectors.base import JSON, ConfigField, ConfigInvalid, Connector, SourceError
from veilleur.connectors.fields import MAX_TEXT
from veilleur.connectors.registry import KINDS, SHELL_ONLY_KINDS, get_connector
from veilleur.connectors.secrets import keep_unchanged, seal, unseal
from veilleur.monitoring.models import Source, Watch
from veilleur.monitoring.sources import runtime_config

CONFIG_PREFIX = "config_"
MIN_INTERVAL = 60
MAX_INTERVAL = 24 * 3600
DEFAULT_INTERVAL = 300

# One line per kind for the "add a source" list, unless the connector declares its own
# ``description``.
KIND_DESCRIPTIONS: dict[str, Promise] = {
    "rss": _("News sites, blogs and forums that publish an RSS or Atom feed."),
    "mastodon": _("Posts on a Mastodon instance: hashtags, a full-text search or an "
                  "account's mentions."),
    "bluesky": _("Bluesky posts matching a search, or the mentions of an account."),
    "hackernews": _("Hacker News stories and comments matching a search."),
    "youtube": _("Comments on YouTube videos, or on all of a channel's videos (needs an API key)."),
    "appstore": _("Customer reviews of an iPhone or iPad app on Apple's App Store."),
    "googleplay": _("Reviews of your own Android apps on Google Play (needs Play Console "
                    "API access)."),
    "gdelt": _("News articles from around the world (their titles), as indexed by the "
               "GDELT project."),
    "webhook": _("Items that another system pushes to Veilleur (signed HTTP requests)."),
    "imap": _("Emails arriving in a mailbox (a support or contact address), read over IMAP."),
}


@dataclass(frozen=True)
class KindChoice:
    kind: str
    label: str
    description: str


def kind_description(kind: str, connector: Connector) -> str:
    return str(getattr(connector, "description", "") or KIND_DESCRIPTIONS.get(kind, ""))


def creatable_kinds() -> list[KindChoice]:
    """The kinds a workspace manager may add from the web, in label order.

    Shell-only kinds (they read server files) are left out, and so is any kind whose
    module cannot be imported (not installed in this build).
    """
    choices = []
    for kind in KINDS:
        if kind in SHELL_ONLY_KINDS:
            continue
        try:
            connector = get_connector(kind)
        except ImportError:
            continue
        choices.append(KindChoice(kind, str(connector.label), kind_description(kind, connector)))
    return sorted(choices, key=lambda choice: choice.label.lower())


def min_interval(connector: Connector) -> int:
    """The shortest poll interval offered: 60 s, or the connector's own minimum."""
    declared = getattr(connector, "min_interval", MIN_INTERVAL)
    try:
        declared = int(declared)
    except (TypeError, ValueError):
        declared = MIN_INTERVAL
    return min(max(MIN_INTERVAL, declared), MAX_INTERVAL)


def _form_field(spec: ConfigField, required: bool) -> forms.Field:
    common: dict[str, Any] = {"label": spec.label, "help_text": spec.help, "required": required}
    if spec.type == "bool":
        return forms.BooleanField(**{**common, "required": False})
    if spec.type == "int":
        return forms.IntegerField(**common)
    if spec.type == "choice":
        choices = list(spec.choices)
        if not required:
            choices = [("", "—"), *choices]
        return forms.ChoiceField(choices=choices, **common)
    if spec.type == "lines":
        return forms.CharField(
            widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}), strip=True,
            max_length=MAX_TEXT * 10, **common)
    limit = spec.max_length or MAX_TEXT
    if spec.type == "secret":
        if limit > MAX_TEXT:
            # A key file: pasted into a text area, which is never filled back either.
            widget: forms.Widget = forms.Textarea(
                attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"})
        else:
            widget = forms.PasswordInput(render_value=False,
                                         attrs={"autocomplete": "new-password"})
        return forms.CharField(widget=widget, strip=True, max_length=limit, **common)
    if spec.type == "url":
        return forms.CharField(widget=forms.URLInput(attrs={"spellcheck": "false"}),
                               max_length=limit, **common)
    return forms.CharField(max_length=limit, **common)


def _initial(spec: ConfigField, value: JSON) -> JSON:
    if value is None:
        return None
    if spec.type == "lines" and isinstance(value, list):
        return "\n".join(str(line) for line in value)
    return value


class SourceForm(forms.Form):
    """Add or edit a source of one kind; ``config`` is the connector's clean config.

    ``config`` holds secrets in clear (typed, carried from a previous try, or the stored
    ones on edit): hand it to ``create_source``/``update_config`` (which encrypt them)
    or to a test fetch, never to a template.
    """

    name = forms.CharField(label=_("Name"), max_length=120,
                           help_text=_("How this source is called in lists and filters."))
    watch = forms.ModelChoiceField(
        label=_("Watch"), queryset=Watch.objects.none(), required=False,
        empty_label=_("None: match every watch's query"),
        help_text=_("Link every item of this source to one watch, whatever its text (for a "
                    "feed that is already about your subject). Leave empty to link each item "
                    "to the watches whose query it matches."))
    poll_interval = forms.IntegerField(label=_("Poll every (seconds)"))

    def __init__(self, data: Mapping[str, Any] | None = None, *, workspace: Workspace,
                 kind: str, connector: Connector, source: Source | None = None,
                 carried: Mapping[str, str] | None = None) -> None:
        self.workspace = workspace
        self.kind = kind
        self.connector = connector
        self.source = source
        self.carried = dict(carried or {})
        self.config: dict[str, JSON] = {}
        self.typed_secrets: dict[str, str] = {}
        initial: dict[str, Any] = {}
        lower = min_interval(connector)
        if source is not None:
            initial.update(name=source.name, watch=source.watch_id,
                           poll_interval=source.poll_interval)
        else:
            initial["poll_interval"] = max(DEFAULT_INTERVAL, lower)
        stored = source.config if source is not None else {}
        for spec in connector.fields:
            if spec.secret:
                continue
            value = stored.get(spec.name) if source is not None else spec.default
            initial[CONFIG_PREFIX + spec.name] = _initial(spec, value)
        super().__init__(data, initial=initial)
        self.fields["watch"].queryset = Watch.objects.for_workspace(workspace)  # type: ignore[attr-defined]
        interval = self.fields["poll_interval"]
        interval.min_value, interval.max_value = lower, MAX_INTERVAL  # type: ignore[attr-defined]
        interval.validators = [validators.MinValueValidator(lower),
                               validators.MaxValueValidator(MAX_INTERVAL)]
        interval.widget.attrs.update(min=lower, max=MAX_INTERVAL, step=1)
        interval.help_text = _(  # type: ignore[assignment]
            "How often Veilleur asks the source for new items: from %(low)s to %(high)s "
            "seconds (one day).") % {"low": lower, "high": MAX_INTERVAL}
        for spec in connector.fields:
            required = spec.required
            if spec.secret and self._secret_on_file(spec.name):
                required = False
            self.fields[CONFIG_PREFIX + spec.name] = _form_field(spec, required)
            if spec.secret and self._secret_on_file(spec.name):
                self.mark_kept(spec.name)

    # ---- secrets -------------------------------------------------------------------

    def _secret_on_file(self, name: str) -> bool:
        """A value exists that an empty field keeps: stored on the source, or carried."""
        if name in self.carried:
            return True
        return bool(self.source is not None and self.source.config.get(name))

    def mark_kept(self, name: str) -> None:
        """Show an empty secret field as "unchanged" (leaving it empty keeps the value)."""
        field = self.fields[CONFIG_PREFIX + name]
        field.required = False
        field.widget.attrs["placeholder"] = _("unchanged")

    # ---- groups for the template ----------------------------------------------------

    def config_fields(self) -> list[forms.BoundField]:
        return [self[CONFIG_PREFIX + spec.name] for spec in self.connector.fields]

    def general_fields(self) -> list[forms.BoundField]:
        return [self["watch"], self["poll_interval"]]

    # ---- validation -----------------------------------------------------------------

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        clash = Source.objects.for_workspace(self.workspace).filter(name=name)
        if self.source is not None:
            clash = clash.exclude(pk=self.source.pk)
        if clash.exists():
            raise forms.ValidationError(_("A source with this name already exists."))
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if any(CONFIG_PREFIX + spec.name in self.errors for spec in self.connector.fields):
            return data  # the connector would only repeat a type error as "required"
        raw: dict[str, JSON] = {}
        for spec in self.connector.fields:
            value = data.get(CONFIG_PREFIX + spec.name)
            if spec.secret:
                value = value or self.carried.get(spec.name, "")
                if value:
                    self.typed_secrets[spec.name] = value
            if spec.type == "bool":
                raw[spec.name] = bool(value)
            elif value is not None and value != "":
                raw[spec.name] = value
        if self.source is not None:
            try:
                stored = runtime_config(self.source)
            except SourceError:
                stored = {}  # undecryptable (the secret key changed): they must be typed again
            raw = keep_unchanged(self.connector.fields, raw, stored)
        try:
            self.config = self.connector.validate_config(raw)
        except ConfigInvalid as exc:
            self.add_config_error(exc)
        return data

    def add_config_error(self, error: ConfigInvalid) -> None:
        """Attach ``"field: why"`` to that field; anything else to the whole form."""
        message = str(error)
        name, sep, why = message.partition(": ")
        key = CONFIG_PREFIX + name.strip()
        if sep and key in self.fields:
            self.add_error(key, why)
        else:
            self.add_error(None, message)

    def error_list(self) -> list[str]:
        """Every error as "Label: message", for the test panel beside the form."""
        out = [str(error) for error in self.non_field_errors()]
        for name, errors in self.errors.items():
            if name == NON_FIELD_ERRORS:
                continue
            label = self.fields[name].label or name
            out.extend(f"{label}: {error}" for error in errors)
        return out


# ---- secrets carried between two tries of the same form ------------------------------

CARRY_SESSION_KEY = "source_form_secrets"
CARRY_KEEP = 5


def _carry_scope(kind: str, source: Source | None) -> str:
    return f"{kind}:{source.pk if source is not None else 'new'}"


def carried_secrets(session: SessionBase, token: str, kind: str,
                    source: Source | None) -> dict[str, str]:
    """The secrets typed in an earlier try of this form (by this session), in clear."""
    entry = session.get(CARRY_SESSION_KEY, {}).get(token) if token else None
    if not isinstance(entry, dict) or entry.get("scope") != _carry_scope(kind, source):
        return {}
    out = {}
    for name, sealed in entry.get("values", {}).items():
        try:
            out[name] = unseal(sealed)
        except SourceError:
            continue
    return out


def carry_secrets(session: SessionBase, token: str, form: SourceForm) -> str:
    """Keep the secrets typed in ``form`` for its next try; returns the token to send back.

    They are encrypted in the session, never written in the page. Only the last few
    forms of a session are remembered.
    """
    if not form.typed_secrets:
        return ""
    store: dict[str, Any] = dict(session.get(CARRY_SESSION_KEY, {}))
    if token not in store:
        token = token_source.token_urlsafe(18)
    store.pop(token, None)
    store[token] = {"scope": _carry_scope(form.kind, form.source),
                    "values": {name: seal(value) for name, value in form.typed_secrets.items()}}
    while len(store) > CARRY_KEEP:
        store.pop(next(iter(store)))
    session[CARRY_SESSION_KEY] = store
    for name in form.typed_secrets:
        form.mark_kept(name)
    return token


def forget_secrets(session: SessionBase, token: str) -> None:
    store = session.get(CARRY_SESSION_KEY)
    if token and isinstance(store, dict) and token in store:
        store = dict(store)
        store.pop(token)
        session[CARRY_SESSION_KEY] = store
