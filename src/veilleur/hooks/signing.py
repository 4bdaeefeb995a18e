"""Signatures of inbound webhook requests.

A sender signs ``"{timestamp}.{raw body}"`` with HMAC-SHA256 and the source's secret,
and sends ``X-Veilleur-Timestamp: <unix seconds>`` and
``X-Veilleur-Signature: sha256=<hex digest>``. The timestamp is inside the signed
text, so a captured request cannot be replayed later with a fresh timestamp; the
window bounds how long a captured request stays usable at all (and the delivery id
makes even that one use only).
"""

from __future__ import annotations

import hashlib
import hmac

WINDOW_SECONDS = 300
SCHEME = "sha256="
MAX_SIGNATURES = 5  # a header may carry a few (a sender trying an old and a new secret)


class SignatureRejected(ValueError):
    """The request is not authentic, or not fresh; the message says which."""


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Veilleur-Signature`` value for ``body`` sent at ``timestamp``."""
    message = f"{timestamp}.".encode() + body
    return SCHEME + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def parse_timestamp(header: str | None) -> int:
    """The signed Unix time of a request; SignatureRejected when missing or malformed."""
    if not header:
        raise SignatureRejected("missing X-Veilleur-Timestamp header (Unix time in seconds)")
    value = header.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise SignatureRejected("X-Veilleur-Timestamp must be a Unix time in whole seconds")
    return int(value)


def verify(
    secret: str, timestamp: int, header_value: str | None, body: bytes, now: float
) -> str:
    """The matching signature; SignatureRejected unless one matches and the time is fresh.

    The signature is checked before the window so that a caller without the secret
    learns nothing but "bad signature". Digests are compared in constant time.
    """
    if not header_value:
        raise SignatureRejected("missing X-Veilleur-Signature header")
    expected = sign(secret, timestamp, body)
    candidates = [part.strip() for part in header_value.split(",")][:MAX_SIGNATURES]
    matched = False
    for candidate in candidates:
        # compare_digest on every candidate, without stopping early on a match.
        if hmac.compare_digest(candidate.lower().encode(), expected.encode()):
            matched = True
    if not matched:
        raise SignatureRejected("the signature does not match this source's secret")
    if abs(now - timestamp) > WINDOW_SECONDS:
        raise SignatureRejected("timestamp outside the 5-minute window")
    return expected
