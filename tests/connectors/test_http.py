"""The connectors' HTTP client against real peers on loopback: guard, bounds, hints, errors."""

from __future__ import annotations

import gzip
import logging
import socket
from datetime import UTC, datetime

import pytest
from django.test import override_settings
from pytest_httpserver import HTTPServer
from werkzeug import Response as WerkzeugResponse

from tests.connectors.peers import raw_peer, truncated_response
from veilleur.connectors import netguard
from veilleur.connectors.base import SourceError
from veilleur.connectors.http import (
    HttpClient,
    cache_seconds,
    describe,
    endpoint,
    wait_hint,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _fails(url: str, **client: object) -> SourceError:
    with HttpClient(**client) as http, pytest.raises(SourceError) as caught:  # type: ignore[arg-type]
        http.get(url)
    return caught.value


# --- the private-network guard ---------------------------------------------------------


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "::1",
    "fe80::1", "fc00::5", "100.64.0.1", "0.0.0.0",  # noqa: S104 - an address under test, not a bind
    "224.0.0.1", "::ffff:127.0.0.1",
    "100.100.100.200",
])
def test_non_public_addresses_are_refused(address):
    assert not netguard.is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::6810:84e5", "1.1.1.1"])
def test_public_addresses_pass(address):
    assert netguard.is_public(address)


@override_settings(ALLOW_PRIVATE_NETWORKS=False)
def test_loopback_peer_is_refused_before_any_request(httpserver: HTTPServer):
    httpserver.expect_request("/feed").respond_with_data("secret intranet page")
    error = _fails(httpserver.url_for("/feed"))
    assert error.permanent
    assert "VEILLEUR_ALLOW_PRIVATE_NETWORKS" in str(error)
    assert httpserver.log == []  # nothing reached the peer


@override_settings(ALLOW_PRIVATE_NETWORKS=False)
def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch):
    # A public-looking name whose DNS answer is private (DNS rebinding, internal names).
    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr(netguard.socket, "getaddrinfo", fake_getaddrinfo)
    error = _fails("https://feeds.example.org/rss")
    assert error.permanent and "10.0.0.7" in str(error)


def test_a_redirect_to_a_private_address_is_refused(httpserver: HTTPServer):
    # The first hop is allowed (loopback is allowed in tests), then the policy is
    # switched off for the hop target only: each hop goes through the guard.
    target = "http://10.255.255.1:9/internal"
    httpserver.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": target})
    seen: list[str] = []
    real_check = netguard.check_address

    def check(host: str, address: str) -> None:
        seen.append(address)
        if address.startswith("10."):
            raise netguard.BlockedAddress(host, address)
        real_check(host, address)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("veilleur.connectors.http.check_address", check)
        patch.setattr("veilleur.connectors.netguard.check_address", check)
        error = _fails(httpserver.url_for("/start"))
    assert error.permanent and "10.255.255.1" in str(error)
    assert "10.255.255.1" in seen


def test_private_networks_allowed_by_setting(httpserver: HTTPServer):
    httpserver.expect_request("/ok").respond_with_data("fine")
    with HttpClient() as http:
        assert http.get(httpserver.url_for("/ok")).content == b"fine"


def test_only_http_schemes():
    for url in ("file:///etc/passwd", "ftp://example.org/x", "gopher://x"):
        assert _fails(url).permanent


# --- statuses, hints and messages -----------------------------------------------------


@pytest.mark.parametrize(("status", "permanent"), [
    (401, True), (403, True), (404, True), (410, True), (400, True),
    (408, False), (425, False), (429, False), (500, False), (503, False),
])
def test_error_statuses(httpserver: HTTPServer, status, permanent):
    httpserver.expect_request("/x").respond_with_data("nope", status=status)
    error = _fails(httpserver.url_for("/x"))
    assert error.permanent is permanent
    assert f"HTTP {status}" in str(error)


def test_429_retry_after_is_kept(httpserver: HTTPServer):
    httpserver.expect_request("/x").respond_with_data("", status=429,
                                                      headers={"Retry-After": "120"})
    error = _fails(httpserver.url_for("/x"))
    assert error.retry_after == 120 and not error.permanent


def test_query_strings_never_appear_in_messages(httpserver: HTTPServer):
    httpserver.expect_request("/api").respond_with_data("bad key", status=400)
    error = _fails(httpserver.url_for("/api") + "?key=AIzaSECRET123&q=acme")
    assert "AIzaSECRET123" not in str(error)
    with raw_peer(b"", hold=3) as url:
        error = _fails(url + "/api?key=AIzaSECRET123", timeout=0.3)
    assert "AIzaSECRET123" not in str(error) and "did not answer" in str(error)


def test_httpx_request_logs_are_off_by_default(caplog, httpserver: HTTPServer):
    # httpx logs full URLs (with keys) at INFO; the project's logging config raises it.
    from django.conf import settings

    assert settings.LOGGING["loggers"]["httpx"]["level"] == "WARNING"
    assert describe("https://u:p@api.example.org/v3/items?key=S") == "api.example.org/v3/items"


def test_wait_hints():
    assert wait_hint({"retry-after": "30"}, NOW) == 30
    assert wait_hint({"retry-after": "Tue, 24 Nov 2026 12:05:00 GMT"}, NOW) == 300
    assert wait_hint({"retry-after": "soon"}, NOW) is None
    assert wait_hint({"retry-after": "-5"}, NOW) is None
    # Mastodon: ISO reset time once the remaining count reaches 0.
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "2026-11-24T12:10:00.000Z"}
    assert wait_hint(headers, NOW) == 600
    assert wait_hint({**headers, "x-ratelimit-remaining": "12"}, NOW) is None
    # Epoch seconds.
    epoch = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(NOW.timestamp() + 90)}
    assert wait_hint(epoch, NOW) == pytest.approx(90)
    # Absurd waits are bounded.
    assert wait_hint({"retry-after": str(10**9 - 1)}, NOW) == 24 * 3600


def test_cache_hints():
    assert cache_seconds({"cache-control": "public, max-age=600"}, NOW) == 600
    assert cache_seconds({"cache-control": "max-age=999999"}, NOW) == 3600
    assert cache_seconds({"cache-control": "no-cache, max-age=60"}, NOW) is None
    assert cache_seconds({"expires": "Tue, 24 Nov 2026 12:02:00 GMT"}, NOW) == 120
    assert cache_seconds({}, NOW) is None


def test_conditional_get_and_hint(httpserver: HTTPServer):
    httpserver.expect_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304)
    httpserver.expect_request("/feed").respond_with_data(
        "<rss/>", headers={"ETag": '"v1"', "Cache-Control": "max-age=900"})
    with HttpClient() as http:
        first = http.get(httpserver.url_for("/feed"))
        again = http.get(httpserver.url_for("/feed"), etag=first.etag)
    assert first.etag == '"v1"' and first.hint().retry_after == 900
    assert again.not_modified and again.content == b""


def test_user_agent_says_who_we_are(httpserver: HTTPServer):
    httpserver.expect_request("/ua").respond_with_data("ok")
    with HttpClient() as http:
        http.get(httpserver.url_for("/ua"))
    request, _response = httpserver.log[0]
    assert request.headers["User-Agent"].startswith("Veilleur/")


def test_endpoint_override():
    assert endpoint("hackernews", "https://hn.algolia.com/") == "https://hn.algolia.com"
    with override_settings(CONNECTOR_ENDPOINTS={"hackernews": "http://127.0.0.1:9/"}):
        assert endpoint("hackernews", "https://hn.algolia.com") == "http://127.0.0.1:9"


# --- bodies: size, truncation, malformed, timeouts -------------------------------------


def test_a_50_mb_body_with_a_length_is_refused_unread(httpserver: HTTPServer):
    httpserver.expect_request("/big").respond_with_data(b"x" * (50 * 1024 * 1024))
    error = _fails(httpserver.url_for("/big"))
    assert "limit" in str(error) and not error.permanent


def test_a_50_mb_streamed_body_is_cut_at_the_limit(httpserver: HTTPServer):
    sent = []

    def chunks():
        for _ in range(50):
            sent.append(1)
            yield b"y" * (1024 * 1024)

    httpserver.expect_request("/stream").respond_with_response(
        WerkzeugResponse(chunks(), content_type="application/json"))
    error = _fails(httpserver.url_for("/stream"), max_bytes=2 * 1024 * 1024)
    assert "limit" in str(error)
    assert len(sent) < 50  # stopped reading long before the end


def test_a_gzip_bomb_counts_at_its_decoded_size(httpserver: HTTPServer):
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024))
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"})
    assert len(bomb) < 100_000
    assert "limit" in str(_fails(httpserver.url_for("/bomb"), max_bytes=1024 * 1024))


def test_truncated_body():
    with raw_peer(truncated_response(b'{"items": [1, 2')) as url:
        error = _fails(url + "/items")
    assert "truncated" in str(error) and not error.permanent


def test_malformed_json_is_a_source_error(httpserver: HTTPServer):
    httpserver.expect_request("/j").respond_with_data('{"items": [',
                                                      content_type="application/json")
    with HttpClient() as http:
        response = http.get(httpserver.url_for("/j"))
        with pytest.raises(SourceError, match="malformed JSON"):
            response.json()


def test_a_silent_peer_times_out():
    with raw_peer(b"", hold=3) as url:
        error = _fails(url + "/slow", timeout=0.3)
    assert "did not answer within 0.3 s" in str(error) and not error.permanent


def test_redirect_loops_are_bounded(httpserver: HTTPServer):
    httpserver.expect_request("/loop").respond_with_data(
        "", status=302, headers={"Location": "/loop"})
    assert "redirected more than" in str(_fails(httpserver.url_for("/loop")))


def test_text_decodes_declared_charset(httpserver: HTTPServer):
    body = "Été – 20 €".encode("cp1252")
    httpserver.expect_request("/t").respond_with_data(
        body, content_type="text/plain; charset=windows-1252")
    with HttpClient() as http:
        assert http.get(httpserver.url_for("/t")).text() == "Été – 20 €"


def test_nothing_logged_with_the_query(caplog, httpserver: HTTPServer):
    httpserver.expect_request("/k").respond_with_data("ok")
    with caplog.at_level(logging.INFO), HttpClient() as http:
        http.get(httpserver.url_for("/k") + "?key=TOPSECRET")
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug")]
    assert not any("TOPSECRET" in message for message in ours)


def test_a_broken_gzip_body_is_a_source_error(httpserver: HTTPServer):
    httpserver.expect_request("/z").respond_with_data(
        b"not gzip at all", headers={"Content-Encoding": "gzip"})
    error = _fails(httpserver.url_for("/z"))
    assert "cannot be decoded" in str(error) and not error.permanent


def test_a_post_is_not_redirected_elsewhere_with_its_body(httpserver: HTTPServer):
    httpserver.expect_request("/session", method="POST").respond_with_data(
        "", status=307, headers={"Location": "http://127.0.0.1:9/steal"})
    with HttpClient() as http, pytest.raises(SourceError) as caught:
        http.post(httpserver.url_for("/session"), json={"password": "app-pass"})
    assert caught.value.permanent and "HTTP 307" in str(caught.value)
    assert "app-pass" not in str(caught.value)
    assert len(httpserver.log) == 1  # nothing re-sent
