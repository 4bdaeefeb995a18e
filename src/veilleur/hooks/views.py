"""``POST /hooks/<source id>/<token>``: JSON pushed by Zapier, n8n, a partner...

Answers (always JSON; messages are for the sender's developer, so English):

- 202 ``{"accepted": n}``: stored; the source is polled at once.
- 200 ``{"accepted": 0, "duplicate": true}``: this delivery id, or this exact signed
  request (whatever delivery id it carries now), was accepted before; nothing stored
  again. 200 rather than 409 so that a sender retrying after a lost answer stops
  retrying.
- 400 the body is not valid JSON, or an item is invalid (which item and why); nothing stored.
- 401 missing or wrong signature, or a timestamp outside the 5-minute window.
- 404 no such endpoint (unknown source, wrong token, not a webhook source).
- 405 not a POST. 410 the source is disabled. 411 a chunked body the server cannot
  bound. 413 body over 1 MiB.
- 429 too many deliveries waiting to be read (Retry-After). 503 the secret is unreadable.

docs/sources/webhook.md describes the signature and the payload.
"""

from __future__ import annotations

import hmac
import logging
import re
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from veilleur.connectors.base import SourceError
from veilleur.connectors.registry import get_connector
from veilleur.connectors.secrets import open_config
from veilleur.hooks import services
from veilleur.hooks.payload import PayloadInvalid, parse_body
from veilleur.hooks.signing import SignatureRejected, parse_timestamp, verify
from veilleur.monitoring.models import Health, Source

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
_DELIVERY_ID = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces


def _answer(status: int, **data: object) -> JsonResponse:
    response = JsonResponse(data, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Signature realm="veilleur-webhook"'
    return response


def _reject(source_id: int, status: int, error: str) -> JsonResponse:
    log.info("webhook for source %s refused (%s): %s", source_id, status, error)
    return _answer(status, error=error)


def _read_bounded(stream: Any) -> bytes:
    """At most MAX_BODY_BYTES + 1 bytes of a stream that ends with the body."""
    chunks, size = [], 0
    while size <= MAX_BODY_BYTES:
        chunk = stream.read(min(65536, MAX_BODY_BYTES + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


@csrf_exempt
def receive(request: HttpRequest, source_id: str, token: str) -> JsonResponse:
    if request.method != "POST":
        response = _answer(405, error="only POST is accepted here")
        response["Allow"] = "POST"
        return response
    pk = int(source_id)
    source = Source.objects.filter(pk=pk, kind="webhook").first()
    expected = str(source.config.get("path_token", "")) if source is not None else ""
    # Constant-time, and the same answer for an unknown source and a wrong token.
    if source is None or not expected or not hmac.compare_digest(
        token.encode(), expected.encode()
    ):
        return _reject(pk, 404, "no such webhook endpoint")

    declared = request.META.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    if not declared and chunked:
        # A chunked body without Content-Length (servers that de-chunk, like waitress,
        # set one): Django would read it as empty. A server whose input stream ends
        # with the body says so (wsgi.input_terminated, gunicorn): read it, bounded.
        if not request.META.get("wsgi.input_terminated"):
            return _reject(pk, 411, "send the body with a Content-Length header")
        body = _read_bounded(request.META["wsgi.input"])
    else:
        declared = declared or "0"
        if not declared.isdigit():
            return _reject(pk, 400, "invalid Content-Length")
        if int(declared) > MAX_BODY_BYTES:
            return _reject(pk, 413, f"the body is over {MAX_BODY_BYTES} bytes; send fewer "
                                    "items per request")
        body = request.read(MAX_BODY_BYTES + 1)  # bounded even if the length lied
    if len(body) > MAX_BODY_BYTES:
        return _reject(pk, 413, f"the body is over {MAX_BODY_BYTES} bytes")

    try:
        secret = str(open_config(get_connector("webhook").fields, source.config)["secret"])
    except (SourceError, KeyError):
        log.error("webhook source %s: its secret cannot be read (VEILLEUR_SECRET_KEY "
                  "changed?); rotate it on the source page", pk)
        return _answer(503, error="this endpoint's secret cannot be read on the server")
    now = timezone.now()
    try:
        timestamp = parse_timestamp(request.headers.get("X-Veilleur-Timestamp"))
        signature = verify(secret, timestamp, request.headers.get("X-Veilleur-Signature"),
                           body, now.timestamp())
    except SignatureRejected as exc:
        return _reject(pk, 401, str(exc))

    if source.health == Health.DISABLED:
        return _reject(pk, 410, "this source is disabled; nothing was stored")
    delivery_id = request.headers.get("X-Veilleur-Delivery", "").strip()
    if delivery_id and not _DELIVERY_ID.match(delivery_id):
        return _reject(pk, 400, "X-Veilleur-Delivery must be 1 to 200 printable ASCII "
                                "characters without spaces")
    try:
        items = parse_body(body)
    except PayloadInvalid as exc:
        return _reject(pk, 400, f"nothing was stored: {exc}")
    if not items:
        return _answer(202, accepted=0)
    if services.pending_deliveries(source) >= services.MAX_PENDING_DELIVERIES:
        response = _reject(pk, 429, "too many deliveries are waiting to be read; retry later")
        response["Retry-After"] = "60"
        return response
    # Without a delivery id, the signature stands for the request: an exact replay
    # (same timestamp, same body) is then recognised as well.
    key = delivery_id or signature
    result = services.accept_delivery(
        source, items, key, datetime.fromtimestamp(timestamp, UTC), now, signature=signature
    )
    if result.duplicate:
        return _answer(200, accepted=0, duplicate=True)
    log.info("webhook for source %s: delivery %s accepted (%s items)", pk,
             result.delivery.pk if result.delivery else "?", result.accepted)
    return _answer(202, accepted=result.accepted)
