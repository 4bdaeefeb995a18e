"""``veilleur poll`` and ``veilleur sources show|add --help``: from the shell."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tests.fakes import install_fake_connector, raw_item
from tests.test_source_pages import TOKEN, TokenConnector
from veilleur.connectors import registry
from veilleur.connectors.base import SourceError
from veilleur.connectors.secrets import MASK, open_config
from veilleur.monitoring.models import Health, Mention, Source
from veilleur.monitoring.sources import create_source

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def fake(monkeypatch):
    return install_fake_connector(monkeypatch)


@pytest.fixture
def tokenfeed(monkeypatch):
    monkeypatch.setitem(registry.KINDS, "tokenfeed", "tests.test_source_pages:TokenConnector")


def make(acme, name: str, **fields) -> Source:
    source = create_source(acme, "fake", name, {"name": name})
    if fields:
        Source.objects.filter(pk=source.pk).update(**fields)
        source.refresh_from_db()
    return source


# ---- veilleur poll -----------------------------------------------------------------


def test_poll_polls_every_due_source_once(acme, fake):
    later = timezone.now() + timedelta(hours=1)
    due = make(acme, "due")
    not_due = make(acme, "later", next_poll_at=later)
    make(acme, "off", health=Health.DISABLED)
    fake.queue("due", [raw_item("a", "Bonjour"), raw_item("b", "Salut")])
    fake.queue("later", [raw_item("c", "never fetched")])
    out = run("poll")
    assert f"{due.pk} due (fake): fetched 2, stored 2, skipped 0, copies 0, invalid 0" in out
    assert "health ok" in out and "later" not in out and "off" not in out
    assert [channel for channel, _ in fake.calls] == ["due"]
    due.refresh_from_db()
    assert due.lease_until is None and due.next_poll_at > timezone.now()
    not_due.refresh_from_db()
    assert not_due.next_poll_at == later
    assert run("poll").strip() == "no source is due"


def test_poll_id_polls_now_even_if_not_due(acme, fake):
    source = make(acme, "later", next_poll_at=timezone.now() + timedelta(hours=1))
    fake.queue("later", [raw_item("a", "Bonjour")])
    out = run("poll", str(source.pk))
    assert "fetched 1, stored 1" in out
    assert Mention.objects.filter(source=source).count() == 1


def test_poll_refuses_a_disabled_or_unknown_source(acme, fake):
    off = make(acme, "off", health=Health.DISABLED)
    with pytest.raises(CommandError, match=rf"source {off.pk} \(off\) is disabled: enable it"):
        run("poll", str(off.pk))
    with pytest.raises(CommandError, match="no source with id 999"):
        run("poll", "999")
    with pytest.raises(CommandError, match="ids or --all, not both"):
        run("poll", str(off.pk), "--all")
    assert fake.calls == []


def test_poll_all_polls_every_enabled_source(acme, fake):
    make(acme, "one", next_poll_at=timezone.now() + timedelta(hours=1))
    make(acme, "two")
    make(acme, "off", health=Health.DISABLED)
    out = run("poll", "--all")
    assert sorted(channel for channel, _ in fake.calls) == ["one", "two"]
    assert out.count("fetched 0") == 2


def test_a_failed_poll_says_why_and_exits_with_status_1(acme, fake):
    broken = make(acme, "broken")
    fine = make(acme, "fine")
    fake.queue("broken", SourceError("forum.example/feed did not answer within 3 s"))
    fake.queue("fine", [raw_item("a", "ok")])
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 of 2 source") as failure:
        call_command("poll", "--all", stdout=out)
    assert failure.value.returncode == 1  # run_from_argv exits with it
    text = out.getvalue()
    assert f"{broken.pk} broken (fake): fetched 0" in text
    assert "health degraded; error: forum.example/feed did not answer within 3 s" in text
    assert f"{fine.pk} fine (fake): fetched 1, stored 1" in text
    broken.refresh_from_db()
    assert broken.health == Health.DEGRADED


# ---- veilleur sources show / add --help ----------------------------------------------


def test_sources_show_masks_secrets_and_shows_health(acme, tokenfeed):
    source = create_source(acme, "tokenfeed", "Forum", {
        "url": "https://forum.example/feed.json", "token": TOKEN, "tags": ["panne", "débit"]})
    Source.objects.filter(pk=source.pk).update(
        health=Health.FAILING, consecutive_failures=3,
        last_error="forum.example had a server error (HTTP 503); will retry")
    out = run("sources", "show", str(source.pk))
    assert TOKEN not in out and source.config["token"] not in out
    assert f"  token: {MASK}" in out
    assert "  url: https://forum.example/feed.json" in out and "  tags: panne, débit" in out
    assert "health:             failing" in out and "failures in a row:  3" in out
    assert "last error:         forum.example had a server error (HTTP 503)" in out
    assert "workspace:          acme" in out and "last success:       never" in out
    with pytest.raises(CommandError, match="no source with id 999"):
        run("sources", "show", "999")


def test_sources_show_says_when_a_source_is_disabled(acme, fake):
    source = make(acme, "off", health=Health.DISABLED)
    assert "next poll:          not scheduled (disabled)" in run("sources", "show", str(source.pk))


def test_sources_add_help_lists_the_settings_of_the_kind(tokenfeed, capsys):
    with pytest.raises(SystemExit) as exit_:
        call_command("sources", "add", "tokenfeed", "--help")
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "usage:" in text and "Settings of tokenfeed (Token feed)" in text
    assert "url      url, required: Where the feed is." in text
    assert "token    secret, required: The API token." in text
    assert "limit    int, optional, default 20: Items per fetch, 1 to 100." in text
    assert "mode     choice, optional, default all, one of all|top" in text
    assert "one --set per entry" in text and "stored encrypted" in text


def test_sources_add_help_without_a_kind_is_the_usual_help(capsys):
    with pytest.raises(SystemExit):
        call_command("sources", "add", "--help")
    text = capsys.readouterr().out
    assert "usage:" in text and "lists the settings of KIND" in text
    assert "Settings of" not in text


def test_a_refused_setting_lists_the_kind_settings(acme, tokenfeed):
    with pytest.raises(CommandError) as error:
        run("sources", "add", "tokenfeed", "Forum", "--set", "url=https://forum.example/f",
            "--set", "token=abc", "--set", "limit=500")
    message = str(error.value)
    assert message.startswith("limit: expected a whole number from 1 to 100")
    assert "Settings of tokenfeed" in message and "token    secret, required" in message
    assert not Source.objects.exists()


def test_repeated_set_builds_a_list(acme, tokenfeed):
    run("sources", "add", "tokenfeed", "Forum", "--set", "url=https://forum.example/f",
        "--set", f"token={TOKEN}", "--set", "tags=panne", "--set", "tags=débit",
        "--config", json.dumps({"limit": 5}))
    config = open_config(TokenConnector.fields, Source.objects.get().config)
    assert config["tags"] == ["panne", "débit"] and config["limit"] == 5
    assert config["token"] == TOKEN


@pytest.mark.django_db
def test_adding_a_webhook_source_prints_its_address_and_secret_once(acme):
    from veilleur.hooks.services import endpoint_path, reveal_secret

    out = io.StringIO()
    call_command("sources", "add", "webhook", "Partner feed", "--workspace", acme.slug,
                 stdout=out)
    source = Source.objects.get(name="Partner feed")
    assert endpoint_path(source) in out.getvalue()
    assert reveal_secret(source) in out.getvalue()
    shown = io.StringIO()
    call_command("sources", "show", str(source.pk), stdout=shown)
    assert reveal_secret(source) not in shown.getvalue()
