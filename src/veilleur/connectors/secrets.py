"""Source credentials at rest: encrypted in the config, clear only inside a fetch.

A connector's fields of type ``secret`` (API keys, app passwords, webhook secrets) are
stored as ``enc:v1:<Fernet token>``; the key is derived from the installation's
``SECRET_KEY``, so a stolen database alone does not give the credentials away. They
are never shown back: pages, the API and the CLI see ``MASK``. Webhook secrets are
encrypted rather than hashed because checking an HMAC signature needs the secret.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from veilleur.connectors.base import JSON, ConfigField, SourceError

PREFIX = "enc:v1:"
MASK = "********"


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"veilleur-source-secrets",
        info=b"fernet-v1",
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def is_sealed(value: JSON) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def seal(value: str) -> str:
    return PREFIX + _fernet(settings.SECRET_KEY).encrypt(value.encode()).decode()


def unseal(value: str) -> str:
    if not is_sealed(value):
        return value
    try:
        return _fernet(settings.SECRET_KEY).decrypt(value[len(PREFIX):].encode()).decode()
    except InvalidToken:
        raise SourceError(
            "the stored credentials cannot be decrypted (was VEILLEUR_SECRET_KEY changed?): "
            "enter them again in the source's settings", permanent=True) from None


def _secret_names(fields: Sequence[ConfigField]) -> list[str]:
    return [field.name for field in fields if field.secret]


def seal_config(fields: Sequence[ConfigField], config: Mapping[str, JSON]) -> dict[str, JSON]:
    """``config`` with every clear secret encrypted (sealed ones are left as they are)."""
    out = dict(config)
    for name in _secret_names(fields):
        value = out.get(name)
        if isinstance(value, str) and value and not is_sealed(value):
            out[name] = seal(value)
    return out


def open_config(fields: Sequence[ConfigField], config: Mapping[str, JSON]) -> dict[str, JSON]:
    """``config`` with secrets in clear, for the connector only (never store or log it)."""
    out = dict(config)
    for name in _secret_names(fields):
        value = out.get(name)
        if isinstance(value, str):
            out[name] = unseal(value)
    return out


def mask_config(fields: Sequence[ConfigField], config: Mapping[str, JSON]) -> dict[str, JSON]:
    """``config`` for display: a secret that is set shows as ``MASK``."""
    out = dict(config)
    for name in _secret_names(fields):
        if out.get(name):
            out[name] = MASK
    return out


def keep_unchanged(
    fields: Sequence[ConfigField], new: Mapping[str, JSON], old: Mapping[str, JSON]
) -> dict[str, JSON]:
    """An edit's config where a secret left blank (or sent back masked) keeps its old value."""
    out = dict(new)
    for name in _secret_names(fields):
        if out.get(name) in (None, "", MASK) and old.get(name):
            out[name] = old[name]
    return out
