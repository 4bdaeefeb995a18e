"""The shell commands: createuser, sources; and every command is documented."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

import veilleur
from tests.fakes import PagedConnector, item
from veilleur.accounts.models import Membership, Role, User
from veilleur.connectors import registry
from veilleur.monitoring.models import Health, Source, Watch


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def paged(monkeypatch):
    monkeypatch.setitem(registry.KINDS, "paged", "tests.fakes:PagedConnector")
    monkeypatch.setattr(PagedConnector, "ITEMS", [item(n) for n in range(1, 4)])


@pytest.mark.django_db
def test_createuser_creates_the_workspace_and_role():
    out = run(
        "createuser",
        "dana",
        "--password",
        "pw-123456",
        "--workspace",
        "Initech",
        "--role",
        "manager",
        "--language",
        "fr",
    )
    assert "created user dana" in out
    user = User.objects.get(username="dana")
    assert user.check_password("pw-123456") and user.language == "fr"
    membership = Membership.objects.get(user=user)
    assert membership.workspace.slug == "initech" and membership.role == Role.MANAGER


@pytest.mark.django_db
def test_createuser_refuses_an_existing_name(alice):
    with pytest.raises(CommandError, match="already exists"):
        run("createuser", "alice", "--password", "x")


@pytest.mark.django_db
def test_createuser_can_generate_and_print_a_password():
    out = run("createuser", "erin", "--generate-password")
    password = out.strip().rsplit("password: ", 1)[1]
    assert User.objects.get(username="erin").check_password(password)


@pytest.mark.django_db
def test_sources_add_list_test_disable_enable(acme, paged):
    Watch.objects.create(workspace=acme, name="Nuvia", query="nuvia")
    out = run(
        "sources",
        "add",
        "paged",
        "feed",
        "--workspace",
        "acme",
        "--config",
        json.dumps({"page": 2}),
        "--watch",
        "Nuvia",
        "--interval",
        "60",
    )
    source = Source.objects.get(name="feed")
    assert f"added source {source.pk}" in out
    assert source.config == {"page": 2} and source.watch.name == "Nuvia"
    listing = run("sources", "list")
    assert "feed" in listing and "paged" in listing and "ok" in listing
    tested = run("sources", "test", str(source.pk))
    assert "OK, 2 sample item(s)" in tested and "Message 1 about Nuvia" in tested
    source.refresh_from_db()
    assert source.cursor is None and not source.mentions.exists()  # a test stores nothing
    run("sources", "disable", str(source.pk))
    source.refresh_from_db()
    assert source.health == Health.DISABLED
    with pytest.raises(CommandError, match="already disabled"):
        run("sources", "disable", str(source.pk))
    run("sources", "enable", str(source.pk))
    source.refresh_from_db()
    assert source.health == Health.OK


@pytest.mark.django_db
def test_sources_add_explains_bad_input(acme, globex):
    with pytest.raises(CommandError, match="several workspaces"):
        run("sources", "add", "paged", "x")
    with pytest.raises(CommandError, match="unknown source kind 'nope'; known kinds"):
        run("sources", "add", "nope", "x", "--workspace", "acme")
    with pytest.raises(CommandError, match="not valid JSON"):
        run("sources", "add", "file", "x", "--workspace", "acme", "--config", "{oops")
    with pytest.raises(CommandError, match="no workspace 'initech'; existing: acme, globex"):
        run("sources", "list", "--workspace", "initech")


def test_every_command_is_documented_in_the_readme():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    package = Path(veilleur.__file__).parent
    commands = {
        path.stem
        for path in package.glob("*/management/commands/*.py")
        if not path.stem.startswith("_")
    }
    assert commands, "no commands found"
    missing = sorted(name for name in commands if f"`veilleur {name}" not in readme)
    assert not missing, f"commands missing from README: {missing}"
