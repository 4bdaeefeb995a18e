"""Sending one message to one destination through Apprise, with retries and a log row per try.

A destination's URL carries secrets (passwords, webhook tokens, bot tokens), so it is
never logged nor shown: :func:`masked_url` keeps the scheme and a real host name, and
errors captured from Apprise are scrubbed of every part of the URL before they are
stored. Failures are of two kinds:

- **permanent**: Apprise cannot read the URL, or a webhook points at a private network
  that the installation refuses. The destination is disabled at once with its reason.
- **transient**: the send failed. It is retried (``ALERT_ATTEMPTS`` tries, waiting
  ``ALERT_RETRY_DELAYS`` seconds in between); each try is one :class:`AlertDelivery`
  row. After ``ALERT_MAX_CONSECUTIVE_FAILURES`` alerts in a row that failed every try,
  the destination is disabled and says so.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

import apprise
from django.conf import settings
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _

from veilleur.connectors.netguard import (
    BlockedAddress,
    allowed_addresses,
    private_networks_allowed,
)
from veilleur.crisis.models import (
    AlertDelivery,
    AlertDestination,
    AlertRule,
    DeliveryStatus,
    Incident,
    Signal,
)

logger = logging.getLogger(__name__)

ATTEMPTS = 3
RETRY_DELAYS = (2.0, 10.0)
MAX_CONSECUTIVE_FAILURES = 5
ERROR_LIMIT = 500
# Apprise's generic webhooks post anywhere: they obey VEILLEUR_ALLOW_PRIVATE_NETWORKS.
WEBHOOK_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
_HOSTNAME = re.compile(r"^(?=.*[a-z])[a-z0-9-]+(\.[a-z0-9-]+)+$|^localhost$", re.IGNORECASE)


def _split(url: str) -> tuple[str, str, str, str]:
    """``scheme, userinfo, hostport, rest`` without urllib's strictness (tokens as hosts)."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        return "", "", "", url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, tail = rest[:end], rest[end:]
    userinfo, at, hostport = netloc.rpartition("@")
    return scheme.lower(), userinfo if at else "", hostport, tail


def _host_and_port(hostport: str) -> tuple[str, str]:
    if hostport.startswith("["):  # [IPv6]:port
        host, _bracket, port = hostport[1:].partition("]")
        return host, port.lstrip(":")
    host, _colon, port = hostport.partition(":")
    return host, port


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def masked_url(url: str) -> str:
    """``scheme://host`` for logs and the UI: no user, password, path, token or query.

    Many Apprise schemes put a token where a host would be (``slack://TokenA/...``,
    ``tgram://bot-token/chat``): a "host" that is not a host name or an address is
    masked too.
    """
    scheme, _userinfo, hostport, _rest = _split(url)
    if not scheme:
        return "***"
    host, port = _host_and_port(hostport)
    if not (_HOSTNAME.match(host) or _is_address(host)):
        return f"{scheme}://***"
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}" if port.isdigit() else f"{scheme}://{shown}"


def _secrets(url: str) -> list[str]:
    """Every fragment of the URL that could be secret, longest first (for scrubbing)."""
    _scheme, userinfo, hostport, rest = _split(url)
    host, _port = _host_and_port(hostport)
    path, _q, query = rest.partition("?")
    parts = [url, *userinfo.split(":"), *[p for p in re.split(r"[/#]", path) if p]]
    parts += [value for _key, value in parse_qsl(query.partition("#")[0])]
    if masked_url(url).endswith("***"):
        parts.append(host)
    found = {p for part in parts for p in (part, unquote(part)) if len(p) >= 3}
    return sorted(found, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` without any fragment of ``url`` that could be a secret, bounded in length."""
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 1] + "…"


def _private_network_refused(url: str) -> bool:
    """A webhook to a loopback/private/link-local address when the installation refuses them.

    Apprise opens its own connection, so this is checked on the name's addresses just
    before sending (connectors, which use our client, check the connected address).
    """
    scheme, _userinfo, hostport, _rest = _split(url)
    if scheme not in WEBHOOK_SCHEMES or private_networks_allowed():
        return False
    host, port = _host_and_port(hostport)
    try:
        allowed_addresses(host, int(port) if port.isdigit() else 0)
    except BlockedAddress:
        return True
    except OSError:
        return False  # unresolvable now: Apprise's own failure (transient) says so
    return False


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


@dataclass
class Context:
    """What a message is about: stored on each delivery row."""

    rule: AlertRule | None = None
    incident: Incident | None = None
    signal: Signal | None = None
    is_digest: bool = False


def _disable(destination: AlertDestination, reason: str) -> None:
    destination.enabled = False
    destination.disabled_reason = reason
    destination.last_error = reason
    destination.save(update_fields=["enabled", "disabled_reason", "last_error"])
    logger.warning("alert destination %s (%s) disabled: %s", destination.pk,
                   masked_url(destination.url), reason)


def _row(destination: AlertDestination, context: Context, *, attempt: int, status: str,
         reason: str, title: str, body: str, now: datetime) -> AlertDelivery:
    return AlertDelivery.objects.create(
        destination=destination, rule=context.rule, incident=context.incident,
        signal=context.signal, is_digest=context.is_digest, attempt=attempt, status=status,
        reason=reason, title=title[:250], body=body, at=now)


def _notify_once(notifier: apprise.Apprise, title: str, body: str, url: str) -> tuple[bool, str]:
    """One try; returns ``(delivered, scrubbed error)``."""
    with apprise.LogCapture(level=logging.WARNING) as captured:
        try:
            delivered = bool(notifier.notify(title=title, body=body,
                                             body_format=apprise.NotifyFormat.TEXT))
            error = "" if delivered else captured.getvalue()
        except Exception as exc:  # a plugin bug must not kill the task
            delivered, error = False, f"{type(exc).__name__}: {exc}"
    # Apprise's lines start with a timestamp and level: keep the message only.
    lines = [re.sub(r"^\S+ \S+ - [A-Z]+ - ", "", line) for line in error.splitlines()]
    return delivered, scrub(" ".join(line for line in lines if line.strip()), url)


def send(destination: AlertDestination, title: str, body: str, context: Context,
         now: datetime, *, test: bool = False) -> list[AlertDelivery]:
    """Deliver one message to one destination; one :class:`AlertDelivery` row per try.

    ``test``: a person's "send a test" — one try, and a failure does not count towards
    disabling the destination (the page answers at once, the alerts' record is theirs).
    """
    url = destination.url
    with translation.override(destination.language or settings.LANGUAGE_CODE):
        notifier = apprise.Apprise()
        if not notifier.add(url):
            reason = _("Apprise cannot read this URL (%(url)s): the destination is disabled "
                       "until the URL is corrected.") % {"url": masked_url(url)}
        elif _private_network_refused(url):
            reason = _("This webhook points to a private network address, which this "
                       "installation refuses (VEILLEUR_ALLOW_PRIVATE_NETWORKS): the "
                       "destination is disabled.")
        else:
            reason = ""
        if reason:
            _disable(destination, reason)
            return [_row(destination, context, attempt=1, status=DeliveryStatus.FAILED,
                         reason=reason, title=title, body=body, now=now)]

        attempts = 1 if test else int(_setting("ALERT_ATTEMPTS", ATTEMPTS))
        delays: Sequence[float] = _setting("ALERT_RETRY_DELAYS", RETRY_DELAYS)
        rows = []
        for attempt in range(1, max(1, attempts) + 1):
            delivered, error = _notify_once(notifier, title, body, url)
            if delivered:
                rows.append(_row(destination, context, attempt=attempt,
                                 status=DeliveryStatus.SENT, reason="", title=title,
                                 body=body, now=now))
                AlertDestination.objects.filter(pk=destination.pk).update(
                    consecutive_failures=0, last_success_at=now, last_error="")
                destination.refresh_from_db()
                return rows
            reason = error or _("Apprise could not deliver the message.")
            reason = _("Attempt %(attempt)s of %(attempts)s failed: %(error)s") % {
                "attempt": attempt, "attempts": attempts, "error": reason}
            rows.append(_row(destination, context, attempt=attempt,
                             status=DeliveryStatus.FAILED, reason=reason, title=title,
                             body=body, now=now))
            logger.info("alert to destination %s (%s): %s", destination.pk,
                        masked_url(url), reason)
            if attempt < attempts:
                delay = float(delays[min(attempt - 1, len(delays) - 1)]) if delays else 0.0
                if delay > 0:
                    time.sleep(delay)  # a short backoff: the task holds no transaction

        if test:
            return rows
        # Every try failed: one more failed alert in a row for this destination.
        AlertDestination.objects.filter(pk=destination.pk).update(
            consecutive_failures=F("consecutive_failures") + 1, last_error=rows[-1].reason)
        destination.refresh_from_db()
        limit = int(_setting("ALERT_MAX_CONSECUTIVE_FAILURES", MAX_CONSECUTIVE_FAILURES))
        if destination.enabled and destination.consecutive_failures >= limit:
            _disable(destination, _(
                "Disabled after %(count)s alerts in a row failed to be delivered; last "
                "error: %(error)s") % {"count": destination.consecutive_failures,
                                       "error": rows[-1].reason})
        return rows
