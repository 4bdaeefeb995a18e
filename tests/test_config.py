"""Configuration from VEILLEUR_* variables: defaults, validation, secrets, the command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from veilleur.config import PREFIX, SETTINGS, ConfigError, load_config


@pytest.fixture
def env(tmp_path):
    return {"VEILLEUR_DATA_DIR": str(tmp_path)}


def test_defaults_give_a_sqlite_database_and_a_persistent_secret(env, tmp_path):
    config = load_config(env)
    assert config.database_url == f"sqlite:///{tmp_path / 'veilleur.sqlite3'}"
    assert len(config.secret_key) >= 32
    assert load_config(env).secret_key == config.secret_key  # generated once, then reused
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert config.language == "en" and config.port == 8000 and config.task_backend == "immediate"


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("PORT", "eighty", "whole number"),
        ("PORT", "70000", "between 1 and 65535"),
        ("DEBUG", "maybe", "true or false"),
        ("LANGUAGE", "de", "one of en, fr"),
        ("TIME_ZONE", "Mars/Olympus", "unknown time zone"),
        ("DATABASE_URL", "mysql://x/y", "postgresql://"),
        ("TASK_BACKEND", "celery", "immediate, database, redis"),
        ("REDIS_URL", "http://x", "redis://"),
        ("SECRET_KEY", "short", "at least 32"),
        ("SCHEDULER_INTERVAL", "0", "between"),
        ("ALLOWED_HOSTS", " , ", "at least one host"),
        ("CSRF_TRUSTED_ORIGINS", "example.org", "must start with"),
    ],
)
def test_a_bad_value_names_the_variable(env, name, value, fragment):
    env[PREFIX + name] = value
    with pytest.raises(ConfigError) as caught:
        load_config(env)
    assert str(caught.value).startswith(PREFIX + name + ":")
    assert fragment in str(caught.value)


def test_secrets_can_come_from_files(env, tmp_path):
    secret = tmp_path / "db_url"
    secret.write_text("postgresql://veilleur:s3cret@db:5432/veilleur\n")
    env["VEILLEUR_DATABASE_URL_FILE"] = str(secret)
    config = load_config(env)
    assert config.database_url == "postgresql://veilleur:s3cret@db:5432/veilleur"
    assert config.sources["DATABASE_URL"] == f"file {secret}"
    masked = config.masked()
    assert "s3cret" not in masked["database_url"]
    assert masked["database_url"] == "postgresql://veilleur:***@db:5432/veilleur"
    assert masked["secret_key"] == "***"


def test_an_unreadable_secret_file_names_the_file_variable(env, tmp_path):
    env["VEILLEUR_SECRET_KEY_FILE"] = str(tmp_path / "missing")
    with pytest.raises(ConfigError, match=r"^VEILLEUR_SECRET_KEY_FILE: cannot read"):
        load_config(env)


def _veilleur(*args: str, extra_env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "-m", "veilleur", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_start_up_stops_on_a_bad_value_with_the_variable_name(tmp_path):
    done = _veilleur(
        "migrate",
        extra_env={"VEILLEUR_PORT": "abc", "VEILLEUR_DATA_DIR": str(tmp_path)},
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "VEILLEUR_PORT" in done.stderr and "Traceback" not in done.stderr


def test_the_config_command_masks_secrets_and_reads_dotenv(tmp_path):
    (tmp_path / ".env").write_text(
        "VEILLEUR_LANGUAGE=fr\nVEILLEUR_REDIS_URL=redis://:hunter2hunter2@cache:6379/1\n"
    )
    done = _veilleur(
        "config",
        "--json",
        extra_env={"VEILLEUR_DATA_DIR": str(tmp_path), "VEILLEUR_SECRET_KEY": "k" * 40},
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["VEILLEUR_LANGUAGE"] == "fr"
    assert "hunter2" not in done.stdout and "k" * 40 not in done.stdout
    assert set(printed) == {PREFIX + s.name for s in SETTINGS}


def test_every_setting_is_documented():
    doc = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"`(VEILLEUR_[A-Z_]+)`", doc))
    assert {PREFIX + s.name for s in SETTINGS} <= documented
