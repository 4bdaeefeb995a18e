"""Connector settings: typed cleaning, secrets sealed at rest, masked for display."""

from __future__ import annotations

import pytest
from django.test import override_settings

from veilleur.connectors.base import ConfigField, ConfigInvalid, SourceError
from veilleur.connectors.fields import clean_fields
from veilleur.connectors.html_text import html_to_text
from veilleur.connectors.secrets import (
    MASK,
    is_sealed,
    keep_unchanged,
    mask_config,
    open_config,
    seal_config,
)

FIELDS = (
    ConfigField("url", "Feed", type="url", required=True),
    ConfigField("token", "Token", type="secret"),
    ConfigField("limit", "Limit", type="int", default=50),
    ConfigField("replies", "Replies", type="bool", default=False),
    ConfigField("mode", "Mode", type="choice", choices=(("tag", "Tag"), ("search", "Search")),
                default="tag"),
    ConfigField("tags", "Tags", type="lines"),
)


def test_strings_from_the_command_line_are_typed():
    clean = clean_fields(FIELDS, {"url": " https://example.org/feed ", "limit": "20",
                                  "replies": "yes", "mode": "search", "tags": "a\n\n b \n"})
    assert clean == {"url": "https://example.org/feed", "limit": 20, "replies": True,
                     "mode": "search", "tags": ["a", "b"]}


def test_defaults_fill_in():
    assert clean_fields(FIELDS, {"url": "http://x.org"}) == {
        "url": "http://x.org", "limit": 50, "replies": False, "mode": "tag"}


@pytest.mark.parametrize(("config", "field"), [
    ({}, "url"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"url": "file:///etc/passwd"}, "url"),
    ({"url": "http://x.org:http/"}, "url"),
    ({"url": "http://x.org", "limit": "many"}, "limit"),
    ({"url": "http://x.org", "limit": True}, "limit"),
    ({"url": "http://x.org", "replies": "maybe"}, "replies"),
    ({"url": "http://x.org", "mode": "firehose"}, "mode"),
    ({"url": "http://x.org", "tags": {"a": 1}}, "tags"),
    ({"url": "http://x.org", "colour": "blue"}, "colour"),
    ({"url": "http://x.org", "token": "x" * 5000}, "token"),
])
def test_errors_name_the_field(config, field):
    with pytest.raises(ConfigInvalid) as caught:
        clean_fields(FIELDS, config)
    assert str(caught.value).startswith(f"{field}: ")


def test_secrets_are_sealed_and_opened():
    sealed = seal_config(FIELDS, {"url": "http://x.org", "token": "hunter2"})
    assert is_sealed(sealed["token"]) and "hunter2" not in sealed["token"]
    assert sealed["url"] == "http://x.org"
    assert seal_config(FIELDS, sealed) == sealed  # sealing twice changes nothing
    assert open_config(FIELDS, sealed)["token"] == "hunter2"
    assert mask_config(FIELDS, sealed)["token"] == MASK
    assert mask_config(FIELDS, {"token": ""})["token"] == ""


def test_a_changed_secret_key_says_what_to_do():
    sealed = seal_config(FIELDS, {"token": "hunter2"})
    with override_settings(SECRET_KEY="another-key-entirely-" * 3), \
            pytest.raises(SourceError) as caught:
        open_config(FIELDS, sealed)
    assert caught.value.permanent and "enter them again" in str(caught.value)


def test_blank_or_masked_secret_keeps_the_stored_one():
    old = {"url": "http://x.org", "token": "hunter2"}
    assert keep_unchanged(FIELDS, {"url": "http://y.org", "token": ""}, old)["token"] == "hunter2"
    assert keep_unchanged(FIELDS, {"token": MASK}, old)["token"] == "hunter2"
    assert keep_unchanged(FIELDS, {"token": "new"}, old)["token"] == "new"


def test_html_to_text_drops_markup_and_scripts():
    html = ('<p>Colis <b>toujours</b> pas re&ccedil;u&nbsp;!</p><script>steal()</script>'
            '<style>p{}</style><p>Ligne<br/>suivante &lt;3</p>')
    assert html_to_text(html) == "Colis toujours pas reçu !\n\nLigne\nsuivante <3"
    assert html_to_text("no markup") == "no markup"
    assert len(html_to_text("<p>" + "a" * 500_000)) <= 200_000


class KeyedConnector:
    """A connector with a secret field that records the config it was given."""

    kind = "keyed"
    platform = "testnet"
    label = "Keyed"
    fields = (ConfigField("api_key", "API key", type="secret", required=True),)
    seen: list[dict] = []

    def validate_config(self, config):
        return clean_fields(self.fields, config)

    def fetch(self, config, cursor, now):
        from veilleur.connectors.base import Batch

        KeyedConnector.seen.append(dict(config))
        return Batch(items=[], cursor=None)


@pytest.fixture
def keyed_kind(monkeypatch):
    from veilleur.connectors import registry

    monkeypatch.setitem(registry.KINDS, "keyed", f"{__name__}:KeyedConnector")
    KeyedConnector.seen = []


def test_sources_store_secrets_sealed_and_connectors_get_them_clear(acme, keyed_kind):
    from veilleur.monitoring.models import Source
    from veilleur.monitoring.pipeline import poll_source
    from veilleur.monitoring.sources import create_source, test_source, update_config

    source = create_source(acme, "keyed", "Keyed", {"api_key": "AIza-very-secret"})
    stored = Source.objects.get(pk=source.pk).config
    assert is_sealed(stored["api_key"]) and "AIza-very-secret" not in str(stored)
    poll_source(source.pk)
    test_source(source)
    assert [seen["api_key"] for seen in KeyedConnector.seen] == ["AIza-very-secret"] * 2
    update_config(source, {"api_key": ""})  # left blank in an edit: kept
    poll_source(Source.objects.get(pk=source.pk).pk)
    assert KeyedConnector.seen[-1]["api_key"] == "AIza-very-secret"
    update_config(source, {"api_key": "rotated"})
    assert open_config(KeyedConnector.fields, Source.objects.get(pk=source.pk).config) == {
        "api_key": "rotated"}


def test_display_masks_declared_sealed_and_named_secrets():
    config = seal_config(FIELDS, {"url": "http://x.org", "token": "hunter2"})
    config["extra"] = {"accounts": [{"handle": "@a", "authToken": "t"}], "note": "keywords"}
    shown = mask_config(FIELDS, config)
    assert shown["token"] == MASK and shown["url"] == "http://x.org"
    assert shown["extra"] == {"accounts": [{"handle": "@a", "authToken": MASK}],
                              "note": "keywords"}
    assert mask_config((), {"opaque": config["token"]}) == {"opaque": MASK}  # sealed


def test_a_required_field_of_spaces_is_missing():
    with pytest.raises(ConfigInvalid, match=r"^url: required"):
        clean_fields(FIELDS, {"url": "   "})


def test_errors_are_in_the_active_language():
    from django.utils import translation

    with translation.override("fr"), pytest.raises(ConfigInvalid) as caught:
        clean_fields(FIELDS, {"url": "ftp://x.org"})
    assert str(caught.value) == "url: une adresse http:// ou https:// est attendue, reçu 'ftp://x.org'"
