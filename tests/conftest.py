"""Shared fixtures: users alice (owner), bob (responder) and charlie (outsider).

alice and bob belong to the "Acme" workspace; charlie owns "Globex" only, so every
view and API test can check that an outsider sees nothing of Acme.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

from veilleur.accounts.models import Role


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


POSTGRES_URL = os.environ.get(
    "VEILLEUR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("VEILLEUR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ON_POSTGRES = os.environ.get("VEILLEUR_TEST_DATABASE", "sqlite") == "postgres"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ON_POSTGRES and not _reachable(POSTGRES_URL, 5432):
        skip = pytest.mark.skip(
            reason=f"PostgreSQL not reachable at {urlsplit(POSTGRES_URL).netloc}; "
            "set VEILLEUR_TEST_POSTGRES_URL or start the server"
        )
        for item in items:
            item.add_marker(skip)
    if not _reachable(REDIS_URL, 6379):
        skip = pytest.mark.skip(
            reason=f"Redis not reachable at {urlsplit(REDIS_URL).netloc}; "
            "set VEILLEUR_TEST_REDIS_URL or start redis-server"
        )
        for item in items:
            if "redis" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def acme(db):
    from veilleur.accounts.services import create_workspace

    return create_workspace("Acme", languages=["fr", "en"], slug="acme")


@pytest.fixture
def globex(db):
    from veilleur.accounts.services import create_workspace

    return create_workspace("Globex", languages=["en"], slug="globex")


def _user(username: str):
    from veilleur.accounts.models import User

    return User.objects.create_user(username, f"{username}@example.org", f"{username}-pw-123")


@pytest.fixture
def alice(acme):
    from veilleur.accounts.services import add_member

    user = _user("alice")
    add_member(acme, user, Role.OWNER)
    return user


@pytest.fixture
def bob(acme):
    from veilleur.accounts.services import add_member

    user = _user("bob")
    add_member(acme, user, Role.RESPONDER)
    return user


@pytest.fixture
def charlie(globex):
    from veilleur.accounts.services import add_member

    user = _user("charlie")
    add_member(globex, user, Role.OWNER)
    return user


@pytest.fixture
def client_of(client):
    """``client_of(user)``: a Django test client logged in as ``user``."""

    def login(user):
        client.force_login(user)
        return client

    return login
