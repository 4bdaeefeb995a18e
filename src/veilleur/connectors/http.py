"""The one HTTP client connectors use: guarded, bounded, polite, and honest about errors.

- **Guarded:** every connection, including each redirect hop, goes through
  ``netguard`` on the address actually connected to (no private networks unless
  ``VEILLEUR_ALLOW_PRIVATE_NETWORKS=true``).
- **Bounded:** a timeout on connect and on each read, at most ``MAX_REDIRECTS``
  redirects, and a size limit on the *decoded* body (a gzip bomb counts at full size).
- **Polite:** a clear User-Agent, conditional GET (ETag / Last-Modified), and a
  ``PollHint`` built from Retry-After, rate-limit headers and Cache-Control.
- **Honest:** failures become ``SourceError`` with a plain message that names the host
  but never the query string (where API keys travel) and with ``permanent`` set for
  what retrying will not fix (bad credentials, gone, refused address).
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings

from veilleur import __version__
from veilleur.connectors.base import JSON, PollHint, SourceError
from veilleur.connectors.netguard import BlockedAddress, allowed_addresses, check_address

USER_AGENT = (
    f"Veilleur/{__version__} (self-hosted reputation monitoring; "
    "+https://github.com/veilleur-project/veilleur)"
)
DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
# A server asking us to wait, or to cache, is obeyed within these bounds.
MAX_CACHE_SECONDS = 3600.0
MAX_WAIT_SECONDS = 24 * 3600.0
_ERROR_BODY_CHARS = 200


class _GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to addresses netguard allows."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = allowed_addresses(host, port)
        except OSError as exc:  # name resolution failed
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        last_error: Exception | None = None
        for _family, address in addresses:
            try:
                # Connecting to the checked address literal: nothing re-resolves the name.
                stream = super().connect_tcp(address, port, timeout, local_address,
                                             socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            sock = stream.get_extra_info("socket")
            try:
                check_address(host, str(sock.getpeername()[0]))
            except BlockedAddress:
                stream.close()
                raise
            return stream
        assert last_error is not None
        raise last_error


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__(retries=0, trust_env=False)
        # httpx does not take a network backend; its pool does. (Pinned httpx < 0.29.)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=10,
            max_keepalive_connections=5,
            retries=0,
            network_backend=_GuardedBackend(),
        )


def describe(url: str) -> str:
    """``host/path`` of a URL for messages: never its query string or user info."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}{parts.path}" if parts.path not in ("", "/") else host


def _seconds_until(value: str, now: datetime) -> float | None:
    """A wait given as delta-seconds, epoch seconds, an HTTP date or an ISO 8601 time."""
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if number != number or number < 0:  # NaN or negative
            return None
        # Above a billion it is an epoch timestamp (X-RateLimit-Reset on many APIs).
        return max(0.0, number - now.timestamp()) if number > 1e9 else number
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def wait_hint(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds the server asks us to wait: Retry-After, or an exhausted rate limit."""
    waits = []
    if "retry-after" in headers:
        waits.append(_seconds_until(headers["retry-after"], now))
    for prefix in ("x-ratelimit-", "ratelimit-", "x-rate-limit-"):
        remaining = headers.get(prefix + "remaining", "").strip()
        if remaining in ("0", "0.0") and prefix + "reset" in headers:
            waits.append(_seconds_until(headers[prefix + "reset"], now))
    found = [w for w in waits if w is not None]
    return min(max(found), MAX_WAIT_SECONDS) if found else None


_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def cache_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """How long the response says it stays fresh (Cache-Control max-age, else Expires)."""
    control = headers.get("cache-control", "")
    if re.search(r"no-store|no-cache", control, re.IGNORECASE):
        return None
    ages = [int(m) for m in _MAX_AGE.findall(control)]
    if ages:
        return float(min(max(ages), MAX_CACHE_SECONDS))
    if "expires" in headers:
        seconds = _seconds_until(headers["expires"], now)
        return None if seconds is None else min(seconds, MAX_CACHE_SECONDS)
    return None


@dataclass(frozen=True)
class Response:
    status: int
    headers: httpx.Headers
    content: bytes
    url: str  # after redirects
    fetched_at: datetime

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str:
        return self.headers.get("etag", "")

    @property
    def last_modified(self) -> str:
        return self.headers.get("last-modified", "")

    def text(self) -> str:
        charset = httpx.Response(self.status, headers=self.headers).charset_encoding
        try:
            return self.content.decode(charset or "utf-8", errors="replace")
        except LookupError:  # an unknown charset name
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> JSON:
        try:
            return jsonlib.loads(self.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SourceError(
                f"{describe(self.url)} sent malformed JSON "
                f"({type(exc).__name__} at {getattr(exc, 'pos', '?')}; "
                f"{len(self.content)} bytes)"
            ) from None

    def hint(self, *, honour_cache: bool = True) -> PollHint:
        """When to poll again: the longest of what the server asked for."""
        waits = [wait_hint(self.headers, self.fetched_at)]
        if honour_cache:
            waits.append(cache_seconds(self.headers, self.fetched_at))
        found = [w for w in waits if w is not None]
        return PollHint(retry_after=max(found) if found else None)


def error_for_status(response: Response) -> SourceError | None:
    """The SourceError an HTTP error status means, or None for 2xx/304."""
    status, where = response.status, describe(response.url)
    if 300 <= status < 400 and status != 304:
        # Only requests that are not GETs get here (GETs follow redirects): a POST
        # carries credentials or a body that must not be re-sent to another address.
        return SourceError(f"{where} answered with a redirect (HTTP {status}), not followed "
                           "for a request carrying a body: check the address", permanent=True)
    if status < 400:
        return None
    wait = wait_hint(response.headers, response.fetched_at)
    detail = " ".join(response.text()[:_ERROR_BODY_CHARS].split())
    detail = f": {detail}" if detail and status not in (404, 410) else ""
    if status in (401, 403):
        return SourceError(
            f"{where} refused access (HTTP {status}): check the credentials or the "
            f"permissions of this source{detail}", permanent=True)
    if status in (408, 425):  # request timeout, too early: try again later
        return SourceError(f"{where} asked us to try again later (HTTP {status})",
                           retry_after=wait)
    if status in (404, 410):
        return SourceError(f"{where} does not exist (HTTP {status}): check the address",
                           permanent=True)
    if status == 429:
        after = f"; asked to wait {wait:.0f} s" if wait is not None else ""
        return SourceError(f"{where} is rate limiting us (HTTP 429){after}",
                           retry_after=wait)
    if status >= 500:
        return SourceError(f"{where} had a server error (HTTP {status}); will retry",
                           retry_after=wait)
    return SourceError(f"{where} refused the request (HTTP {status}){detail}",
                       permanent=True)


def endpoint(kind: str, default: str) -> str:
    """The base URL of a fixed-host API (HN Algolia, GDELT, YouTube, ...).

    ``CONNECTOR_ENDPOINTS`` (a setting, ``{kind: base_url}``) overrides it: the tests
    point connectors at recorded responses on loopback; an operator could point one
    at a caching proxy.
    """
    overrides = getattr(settings, "CONNECTOR_ENDPOINTS", None) or {}
    return str(overrides.get(kind, default)).rstrip("/")


class HttpClient:
    """Synchronous, guarded HTTP for one fetch (a connector makes one per ``fetch``).

    The defaults come from the ``CONNECTOR_HTTP_TIMEOUT`` and ``CONNECTOR_MAX_BYTES``
    settings (20 s, 10 MB).
    """

    def __init__(
        self,
        *,
        timeout: float | None = None,
        max_bytes: int | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        if timeout is None:
            timeout = float(getattr(settings, "CONNECTOR_HTTP_TIMEOUT", DEFAULT_TIMEOUT))
        if max_bytes is None:
            max_bytes = int(getattr(settings, "CONNECTOR_MAX_BYTES", DEFAULT_MAX_BYTES))
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._client = httpx.Client(
            transport=_GuardedTransport(),
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            headers={"User-Agent": user_agent},
            trust_env=False,
        )

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Response:
        return self.request("POST", url, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: JSON = None,
        data: Mapping[str, Any] | None = None,
        etag: str = "",
        last_modified: str = "",
        check: bool = True,
        now: datetime | None = None,
    ) -> Response:
        """Send a request and read the whole (bounded) body.

        ``check`` raises the SourceError of an error status; ``etag`` and
        ``last_modified`` make the GET conditional (a 304 is not an error).
        """
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise SourceError(f"only http and https addresses can be fetched, not {scheme!r}",
                              permanent=True)
        send_headers = dict(headers or {})
        if etag:
            send_headers["If-None-Match"] = etag
        if last_modified:
            send_headers["If-Modified-Since"] = last_modified
        where = describe(url)
        try:
            # Redirects are followed for GETs only: a POST may carry a password or a
            # token (Bluesky's createSession, Google's token exchange).
            with self._client.stream(
                method, url, params=params, headers=send_headers, json=json, data=data,
                follow_redirects=method == "GET",
            ) as raw:
                content = self._read_bounded(raw, where)
                response = Response(
                    status=raw.status_code, headers=raw.headers, content=content,
                    url=str(raw.url), fetched_at=now or datetime.now(UTC),
                )
        except BlockedAddress as exc:
            raise SourceError(str(exc), permanent=True) from None
        except httpx.TimeoutException:
            raise SourceError(f"{where} did not answer within {self.timeout:g} s") from None
        except httpx.TooManyRedirects:
            raise SourceError(f"{where} redirected more than {MAX_REDIRECTS} times") from None
        except httpx.RemoteProtocolError as exc:
            raise SourceError(
                f"{where} broke off the response ({_plain(exc)}): it was truncated or "
                "malformed") from None
        except httpx.TransportError as exc:
            raise SourceError(f"could not reach {where}: {_plain(exc)}") from None
        except httpx.InvalidURL as exc:
            raise SourceError(f"invalid address: {exc}", permanent=True) from None
        except httpx.DecodingError as exc:
            raise SourceError(f"{where} sent a body that cannot be decoded ({_plain(exc)})"
                              ) from None
        except httpx.HTTPError as exc:  # anything else httpx can raise: a failed fetch
            raise SourceError(f"fetching {where} failed: {_plain(exc)}") from None
        if check:
            error = error_for_status(response)
            if error is not None:
                raise error
        return response

    def _read_bounded(self, raw: httpx.Response, where: str) -> bytes:
        limit = self.max_bytes
        declared = raw.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise SourceError(
                f"{where} sent {int(declared) / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB "
                "limit: not read")
        chunks, size = [], 0
        for chunk in raw.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise SourceError(
                    f"{where} sent more than the {limit / 1e6:.0f} MB limit: not read")
            chunks.append(chunk)
        return b"".join(chunks)


def _plain(exc: Exception) -> str:
    """An httpx/httpcore error message without any URL (query strings carry keys)."""
    text = str(exc) or type(exc).__name__
    return re.sub(r"https?://\S+", "<url>", text)[:200]
