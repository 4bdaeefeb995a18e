"""API authentication: bearer tokens, sessions with ?workspace=, CSRF, roles, error shapes."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from tests.fakes import install_fake_connector
from veilleur.accounts.models import ApiToken, Role
from veilleur.connectors import registry

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def acme_token(acme, alice) -> str:
    return ApiToken.issue(acme, "ci", role=Role.VIEWER, created_by=alice)[1]


def test_a_request_without_credentials_gets_401_with_a_json_reason(client, acme):
    response = client.get("/api/mentions")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "authentication required" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_valid_token_is_accepted_and_its_use_recorded(client, acme, acme_token):
    response = client.get("/api/mentions", headers=bearer(acme_token))
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert ApiToken.objects.get(workspace=acme).last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [
        "Bearer vl_not-a-real-token",
        "Bearer not-even-prefixed",
        "Bearer ",
        "bearer vl_wrong",
    ],
)
def test_an_unknown_token_gets_401(client, acme, acme_token, header):
    response = client.get("/api/mentions", headers={"Authorization": header})
    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_token_with_a_typo_gets_401(client, acme, acme_token):
    response = client.get("/api/mentions", headers=bearer(acme_token[:-1] + "!"))
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid or revoked API token"}


def test_a_revoked_token_gets_401(client, acme, acme_token):
    ApiToken.objects.filter(workspace=acme).update(revoked_at=timezone.now())
    response = client.get("/api/mentions", headers=bearer(acme_token))
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid or revoked API token"}


def test_another_authorization_scheme_is_not_a_login(client, acme, acme_token):
    response = client.get("/api/mentions", headers={"Authorization": f"Token {acme_token}"})
    assert response.status_code == 401


def test_a_bad_token_is_refused_even_with_a_valid_session(client_of, alice):
    client = client_of(alice)
    response = client.get("/api/mentions?workspace=acme", headers=bearer("vl_bogus"))
    assert response.status_code == 401


def test_a_token_with_another_workspace_parameter_is_a_client_error(client, acme, globex,
                                                                    acme_token):
    response = client.get("/api/mentions?workspace=globex", headers=bearer(acme_token))
    assert response.status_code == 400
    assert "acme" in response.json()["detail"]
    # Naming its own workspace is harmless.
    response = client.get("/api/mentions?workspace=acme", headers=bearer(acme_token))
    assert response.status_code == 200


def test_a_member_session_with_the_workspace_parameter_is_accepted(client_of, bob):
    response = client_of(bob).get("/api/watches?workspace=acme")
    assert response.status_code == 200


def test_a_session_without_the_workspace_parameter_is_told_what_is_missing(client_of, bob):
    response = client_of(bob).get("/api/watches")
    assert response.status_code == 400
    assert "workspace" in response.json()["detail"]


@pytest.mark.parametrize("slug", ["acme", "no-such-workspace"])
def test_an_outsider_session_gets_the_same_404_for_foreign_and_missing_workspaces(
    client_of, charlie, acme, slug
):
    response = client_of(charlie).get(f"/api/watches?workspace={slug}")
    assert response.status_code == 404
    assert response.json() == {"detail": "workspace not found"}


def test_an_anonymous_session_with_a_workspace_parameter_gets_401(client, acme):
    assert client.get("/api/watches?workspace=acme").status_code == 401


@pytest.fixture
def fake_kind(monkeypatch):
    return install_fake_connector(monkeypatch)


def test_session_writes_need_the_csrf_token(alice, fake_kind):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    body = {"name": "Feed", "kind": "fake", "config": {"name": "feed"}}
    refused = client.post("/api/sources?workspace=acme", body, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    # The docs page hands out the token (as Django pages do): with it, the write passes.
    client.get("/api/docs")
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/sources?workspace=acme", body, content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 201, accepted.content


def test_token_writes_need_no_csrf_token(acme, fake_kind):
    raw = ApiToken.issue(acme, "deploy", role=Role.MANAGER)[1]
    client = Client(enforce_csrf_checks=True)
    body = {"name": "Feed", "kind": "fake", "config": {"name": "feed"}}
    response = client.post("/api/sources", body, content_type="application/json",
                           headers=bearer(raw))
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.VIEWER, False), (Role.RESPONDER, False), (Role.MANAGER, True), (Role.OWNER, True)],
)
def test_the_token_role_decides_who_may_create_a_source(client, acme, fake_kind, role, allowed):
    raw = ApiToken.issue(acme, f"t-{role}", role=role)[1]
    body = {"name": "Feed", "kind": "fake", "config": {"name": "feed"}}
    response = client.post("/api/sources", body, content_type="application/json",
                           headers=bearer(raw))
    if allowed:
        assert response.status_code == 201
    else:
        assert response.status_code == 403
        assert response.json() == {"detail": "this action needs the manager role or higher"}


def test_the_fake_kind_is_only_registered_inside_the_fixture():
    # Guards tests/fakes.py: monkeypatch must not leak the fake kind into other tests.
    assert "fake" not in registry.KINDS
