"""Test settings: the real settings module, fed a throw-away environment.

``VEILLEUR_TEST_DATABASE=postgres`` runs the suite against PostgreSQL at
``VEILLEUR_TEST_POSTGRES_URL`` (default: the local server); see tests/conftest.py.
"""

import os
import tempfile

_data = tempfile.mkdtemp(prefix="veilleur-test-")
os.environ["VEILLEUR_DATA_DIR"] = _data
os.environ["VEILLEUR_SECRET_KEY"] = "test-secret-key-" + "x" * 40
os.environ["VEILLEUR_ALLOW_PRIVATE_NETWORKS"] = "true"
os.environ["VEILLEUR_TASK_BACKEND"] = "immediate"
os.environ.pop("VEILLEUR_ENV_FILE", None)
if os.environ.get("VEILLEUR_TEST_DATABASE", "sqlite") == "postgres":
    os.environ["VEILLEUR_DATABASE_URL"] = os.environ.get(
        "VEILLEUR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
else:
    os.environ["VEILLEUR_DATABASE_URL"] = f"sqlite:///{_data}/test.sqlite3"

from veilleur.settings import *  # noqa: E402, F403

# A file, not SQLite's default in-memory test database, so that tests can hand the
# same database to a subprocess (the crash and process tests).
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"{_data}/test-db.sqlite3"}  # noqa: F405

# Fast hashing: tests create many users; production keeps Django's default.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The lexicon head keeps the many ingest tests fast; the model head (sentence
# embeddings) is tested where it matters (tests/sentiment/, tests/analysis/test_nlp_*).
SENTIMENT_MODE = "lexicon"

# Alert retries back off for seconds in production; tests need no waiting.
ALERT_RETRY_DELAYS = (0, 0)

# Connectors talk to recorded peers on loopback: a hung peer should fail a test fast.
CONNECTOR_HTTP_TIMEOUT = 3.0
