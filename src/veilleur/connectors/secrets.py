"""Source credentials at rest: encrypted in the config, clear only inside a fetch.

A connector's fields of type ``secret`` (API keys, app passwords, webhook secrets) are
stored as ``enc:v1:<Fernet token>``; the key is derived from the installation's
``SECRET_KEY``, so a stolen database alone does not give the credentials away. They
are never shown back: pages, the API and the CLI see ``MASK``. Webhook secrets are
encrypted rather than hashed because checking an HMAC signature needs the secret.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from veilleur.connectors.base import JSON, ConfigField, SourceError

PREFIX = "enc:v1:"
MASK = "***"


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


# Words that mark a config entry as a secret even when no field declares it (nested
# objects, older configs). "key" only counts as a whole word (api_key, apiKey, key) so
# that harmless names like "keywords" stay readable; the others count anywhere in the
# name (client_secret, passwordHash, authToken).
_SECRET_ANYWHERE = ("secret", "password", "passwd", "token", "credential")
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def is_secret_name(name: str) -> bool:
    """True when a config key's name says its value is a secret."""
    lowered = name.lower()
    if any(marker in lowered for marker in _SECRET_ANYWHERE):
        return True
    words = [w.lower() for w in _WORD.findall(name)]
    return any(w.rstrip("s").endswith("key") for w in words)


def _masked(value: JSON) -> JSON:
    if isinstance(value, Mapping):
        return {str(k): MASK if is_secret_name(str(k)) and v else _masked(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return MASK if is_sealed(value) else value


def mask_config(fields: Sequence[ConfigField], config: Mapping[str, JSON]) -> dict[str, JSON]:
    """``config`` for display (pages, API, CLI): every secret that is set shows as ``MASK``.

    Secrets are the connector's ``secret`` fields, any sealed value, and, as a second
    net, any key whose name says it is a secret, in nested objects and lists too.
    """
    out = _masked(dict(config))
    assert isinstance(out, dict)
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
