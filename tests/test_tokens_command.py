"""``veilleur tokens``: create (raw token printed once), list, revoke."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from veilleur.accounts.models import ApiToken, hash_token

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("tokens", *args, stdout=out)
    return out.getvalue()


def test_create_prints_a_working_token_once_and_stores_only_its_hash(acme):
    output = run("create", "--workspace", "acme", "--name", "grafana")
    raw = output.strip().splitlines()[-1]
    assert raw.startswith("vl_") and len(raw) > 40
    token = ApiToken.objects.get(workspace=acme)
    assert token.name == "grafana" and token.role == "viewer"
    assert token.digest == hash_token(raw) and raw not in (token.digest, token.hint)
    response = Client().get("/api/watches", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    # list never shows the raw token again.
    assert raw not in run("list", "--workspace", "acme")


def test_create_takes_a_role(acme):
    run("create", "--workspace", "acme", "--name", "ops", "--role", "manager")
    assert ApiToken.objects.get(workspace=acme).role == "manager"


def test_create_refuses_an_unknown_role(acme):
    with pytest.raises(CommandError):
        run("create", "--workspace", "acme", "--name", "x", "--role", "god")


def test_create_refuses_an_unknown_workspace_and_names_the_known_ones(acme):
    with pytest.raises(CommandError, match=r"'nope'.*acme"):
        run("create", "--workspace", "nope", "--name", "x")
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_create_refuses_an_empty_or_overlong_name(acme, name):
    with pytest.raises(CommandError, match="--name"):
        run("create", "--workspace", "acme", "--name", name)


def test_list_shows_the_workspace_tokens_only(acme, globex):
    ApiToken.issue(acme, "grafana")
    ApiToken.issue(acme, "evil\x1b[31mname")
    ApiToken.issue(globex, "theirs")
    output = run("list", "--workspace", "acme")
    assert "grafana" in output and "theirs" not in output
    # Terminal control sequences in a name are neutralised.
    assert "\x1b" not in output and "evil?[31mname" in output
    assert output.count("active") == 2


def test_list_says_when_there_are_none(acme):
    assert "no tokens" in run("list", "--workspace", "acme")


def test_revoke_stops_the_token_at_once(acme):
    token, raw = ApiToken.issue(acme, "ci")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert client.get("/api/watches").status_code == 200
    assert f"revoked token #{token.pk}" in run("revoke", str(token.pk))
    assert client.get("/api/watches").status_code == 401
    assert "revoked" in run("list", "--workspace", "acme")
    assert "already revoked" in run("revoke", str(token.pk))


def test_revoke_refuses_an_unknown_id(acme):
    with pytest.raises(CommandError, match="no token with id 999"):
        run("revoke", "999")
