"""The Google Play reviews connector: a fake token endpoint and recorded API pages on loopback.

The token endpoint checks the JWT the way Google does (RS256 signature against the
service account's public key, audience, scope, grant type), so signing is tested for
real with a throw-away RSA key generated here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_httpserver import HTTPServer
from werkzeug import Request
from werkzeug import Response as WerkzeugResponse

from tests.connectors.peers import FiftyMegabytes, fixture_bytes, raw_peer, truncated_response
from veilleur.connectors import googleplay
from veilleur.connectors.base import ConfigInvalid, SourceError
from veilleur.connectors.googleplay import GooglePlayConnector

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
PACKAGE = "fr.nuvia.banque"
REVIEWS = f"/androidpublisher/v3/applications/{PACKAGE}/reviews"
ACCESS_TOKEN = "ya29.c.test-access-token-for-loopback"
PAGE2_TOKEN = "Ch0KGwoZZ3A6QU9xcFRPRTlyV20zc0xrNnZCbjFxWGM4enRZ"
CONNECTOR = GooglePlayConnector()


def recorded(name: str) -> bytes:
    return fixture_bytes("googleplay", name)


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    """The service account's key, and another one Google would not know."""
    return {name: rsa.generate_private_key(public_exponent=65537, key_size=2048)
            for name in ("good", "unknown")}


def key_file(token_uri: str, private_key: rsa.RSAPrivateKey, **changes) -> str:
    """The recorded key file's shape with a generated key and a loopback token_uri."""
    key = json.loads(recorded("service_account.json"))
    key.update(private_key=_pem(private_key), token_uri=token_uri, **changes)
    return json.dumps(key, indent=2)


class FakeGoogle:
    """The loopback stand-in for Google: the token endpoint and the reviews API."""

    def __init__(self, server: HTTPServer, keys: dict[str, rsa.RSAPrivateKey]) -> None:
        self.server = server
        self.keys = keys
        self.token_uri = server.url_for("/token")
        self.claims: list[dict] = []
        self.jwt_headers: list[dict] = []
        server.expect_request("/token", method="POST").respond_with_handler(self._token)

    def _token(self, request: Request) -> WerkzeugResponse:
        form = parse_qs(request.get_data(as_text=True))
        assertion = form.get("assertion", [""])[0]
        if form.get("grant_type") != [googleplay.JWT_GRANT]:
            return self._refuse("unsupported_grant_type", "Invalid grant_type")
        try:
            claims = jwt.decode(
                assertion, self.keys["good"].public_key(), algorithms=["RS256"],
                audience=self.token_uri, options={"require": ["iss", "exp", "iat", "aud"]})
        except jwt.PyJWTError:
            return self._refuse("invalid_grant", "Invalid JWT Signature.")
        if claims.get("scope") != googleplay.SCOPE:
            return self._refuse("invalid_scope", "Invalid OAuth scope.")
        self.claims.append(claims)
        self.jwt_headers.append(jwt.get_unverified_header(assertion))
        return WerkzeugResponse(
            json.dumps({"access_token": ACCESS_TOKEN, "expires_in": 3599,
                        "token_type": "Bearer"}), content_type="application/json")

    @staticmethod
    def _refuse(code: str, detail: str) -> WerkzeugResponse:
        return WerkzeugResponse(json.dumps({"error": code, "error_description": detail}),
                                status=400, content_type="application/json")

    def reviews(self, body: bytes, token: str = "", status: int = 200, **kwargs) -> None:
        query = {"maxResults": "100", **({"token": token} if token else {})}
        self.server.expect_request(
            REVIEWS, query_string=query, headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
        ).respond_with_data(body, status=status, content_type="application/json", **kwargs)

    def requested(self) -> list[str]:
        return [request.full_path.rstrip("?") for request, _ in self.server.log
                if request.path != "/token"]


@pytest.fixture
def google(httpserver: HTTPServer, settings, keys) -> FakeGoogle:
    settings.CONNECTOR_ENDPOINTS = {"googleplay": httpserver.url_for("").rstrip("/")}
    return FakeGoogle(httpserver, keys)


def config_for(google: FakeGoogle, key: str = "good", **overrides) -> dict:
    return CONNECTOR.validate_config({
        "package_name": PACKAGE,
        "service_account_json": key_file(google.token_uri, google.keys[key]),
        **overrides})


def fetch(google: FakeGoogle, cursor=None, **overrides):
    return CONNECTOR.fetch(config_for(google, **overrides), cursor, NOW)


def fails(google: FakeGoogle, cursor=None, **overrides) -> SourceError:
    with pytest.raises(SourceError) as caught:
        fetch(google, cursor, **overrides)
    return caught.value


def ids(batch) -> list[str]:
    return [item.external_id for item in batch.items]


PAGE1_IDS = ["gp:AOqpTOFm1aZ4v6Qx0s7yKp2Lc9dE3bR8nW", "gp:AOqpTOH2kVq8mTz1pWc5xLr0aYb7uN4sE6",
             "gp:AOqpTOE9rWm3sLk6vBn1qXc8zTy5uP0aD2"]
PAGE2_IDS = ["gp:AOqpTOGx7bN2cV4mQ9wE1rT6yU3iO8pA5s", "gp:AOqpTOK4dF6gH8jL0zX2cV5bN7mQ1wE3rT"]
NEW_ID = "gp:AOqpTOL8pQ2wE4rT6yU8iO0pA2sD4fG6hJ"


def serve_both_pages(google: FakeGoogle) -> None:
    google.reviews(recorded("reviews_page2.json"), token=PAGE2_TOKEN)
    google.reviews(recorded("reviews_page1.json"))


# --- mapping, signing and paging ---------------------------------------------------


def test_recorded_pages_are_mapped(google):
    serve_both_pages(google)
    batch = fetch(google)
    assert ids(batch) == PAGE1_IDS + PAGE2_IDS and not batch.more
    julie, nicolas, anonymous, marc, emma = batch.items
    assert julie.title == "" and julie.text.startswith("L'appli se ferme toute seule")
    assert julie.published_at == datetime(2026, 11, 24, 16, 41, 9, 512000, tzinfo=UTC)
    assert julie.lang_hint == "fr" and julie.author_name == julie.author_handle == "Julie Martin"
    assert julie.url == ("https://play.google.com/store/apps/details?id=fr.nuvia.banque"
                         "&reviewId=gp%3AAOqpTOFm1aZ4v6Qx0s7yKp2Lc9dE3bR8nW")
    assert julie.extra == {
        "item_type": "review", "replied": False, "rating": 1, "app_version": "4.12.0",
        "device": "a54x", "android_sdk": 34, "score": 12}
    # "Title<TAB>body" reviews; a developer reply.
    assert nicolas.title == "Enfin le paiement sans contact"
    assert nicolas.text.startswith("Très content de pouvoir payer")
    assert nicolas.extra["replied"] is True and nicolas.extra["rating"] == 5
    assert nicolas.extra["replied_at"] == "2026-11-24T13:20:00+00:00"
    # Google's placeholder name is not one author.
    assert anonymous.author_handle == "" and anonymous.author_name == "A Google user"
    assert anonymous.lang_hint == "en"
    assert marc.lang_hint == "fr" and marc.published_at == datetime(2026, 11, 22, 8, 12, tzinfo=UTC)
    assert "device" not in emma.extra and "app_version" not in emma.extra
    assert batch.cursor == {
        "v": 1, "package": PACKAGE, "since": "2026-11-24T16:41:09.512000+00:00",
        "since_ids": [PAGE1_IDS[0]]}


def test_the_token_request_is_a_signed_service_account_jwt(google):
    google.reviews(b"{}")
    fetch(google)
    (claims,) = google.claims
    assert claims["iss"] == "veilleur-reviews@nuvia-play-reviews.iam.gserviceaccount.com"
    assert claims["aud"] == google.token_uri and claims["scope"] == googleplay.SCOPE
    assert 0 < claims["exp"] - claims["iat"] <= 3600
    assert google.jwt_headers[0]["kid"] == "5f2c9a7e1b3d4c6e8f0a1b2c3d4e5f6a7b8c9d0e"
    assert google.jwt_headers[0]["alg"] == "RS256"


def test_a_second_poll_returns_only_new_reviews_and_stops_paging(google):
    serve_both_pages(google)
    first = fetch(google)
    google.server.clear()  # handlers and log
    google = FakeGoogle(google.server, google.keys)
    google.reviews(recorded("reviews_page2.json"), token=PAGE2_TOKEN)
    google.reviews(recorded("reviews_later.json"))
    second = CONNECTOR.fetch(config_for(google), first.cursor, NOW)
    assert ids(second) == [NEW_ID] and not second.more
    # The first page reached known reviews: its next page was not asked for.
    assert google.requested() == [f"{REVIEWS}?maxResults=100"]
    assert second.cursor["since"] == "2026-11-24T17:30:02+00:00"
    assert second.cursor["since_ids"] == [NEW_ID]
    third = CONNECTOR.fetch(config_for(google), second.cursor, NOW)
    assert third.items == [] and third.cursor == second.cursor


def test_a_review_at_the_same_second_with_another_id_is_new(google):
    body = json.loads(recorded("reviews_page1.json"))
    twin = json.loads(json.dumps(body["reviews"][0]))
    twin["reviewId"] = "gp:AOqpTOtwin"
    body["reviews"].insert(0, twin)
    body.pop("tokenPagination")
    google.reviews(json.dumps(body).encode())
    cursor = {"v": 1, "package": PACKAGE, "since": "2026-11-24T16:41:09.512000+00:00",
              "since_ids": [PAGE1_IDS[0]]}
    batch = fetch(google, cursor)
    assert ids(batch) == ["gp:AOqpTOtwin"]
    assert batch.cursor["since_ids"] == sorted([PAGE1_IDS[0], "gp:AOqpTOtwin"])


def test_a_backlog_is_read_over_several_polls(google, monkeypatch):
    monkeypatch.setattr(googleplay, "PAGES_PER_FETCH", 1)
    serve_both_pages(google)
    first = fetch(google)
    assert ids(first) == PAGE1_IDS and first.more
    # ``since`` stays put until the backlog is read; the page token waits.
    assert first.cursor["since"] is None
    assert first.cursor["pending"]["token"] == PAGE2_TOKEN
    second = fetch(google, first.cursor)
    assert ids(second) == PAGE2_IDS and not second.more and "pending" not in second.cursor
    assert second.cursor["since"] == "2026-11-24T16:41:09.512000+00:00"


def test_an_expired_page_token_starts_again_from_the_top(google):
    google.reviews(b'{"error": {"code": 400, "message": "Invalid pagination token"}}',
                   token="stale", status=400)
    google.reviews(recorded("reviews_page1.json"))
    google.reviews(recorded("reviews_page2.json"), token=PAGE2_TOKEN)
    cursor = {"v": 1, "package": PACKAGE, "since": None, "since_ids": [],
              "pending": {"token": "stale", "high": "2026-11-24T16:41:09.512000+00:00",
                          "high_ids": [PAGE1_IDS[0]]}}
    batch = fetch(google, cursor)
    assert ids(batch) == PAGE1_IDS + PAGE2_IDS and "pending" not in batch.cursor


@pytest.mark.parametrize("stuck", ["same", "oversized"])
def test_a_server_that_does_not_move_on_ends_the_backlog(google, stuck):
    page1 = json.loads(recorded("reviews_page1.json"))
    page2 = json.loads(recorded("reviews_page2.json"))
    again = PAGE2_TOKEN if stuck == "same" else "t" * 5000
    page2["tokenPagination"] = {"nextPageToken": again}  # page 2 points at itself
    google.reviews(json.dumps(page2).encode(), token=PAGE2_TOKEN)
    google.reviews(json.dumps(page1).encode())
    batch = fetch(google)
    # Without the check page 2 was asked for until the page budget ran out, and its
    # token kept pending with ``more`` set: an immediate re-poll, for ever.
    assert ids(batch) == PAGE1_IDS + PAGE2_IDS
    assert not batch.more and "pending" not in batch.cursor
    assert len(google.requested()) == 2


def test_duplicated_reviews_across_pages_are_returned_once(google):
    page1 = json.loads(recorded("reviews_page1.json"))
    page2 = json.loads(recorded("reviews_page2.json"))
    page2["reviews"].insert(0, page1["reviews"][2])  # moved down by an edit meanwhile
    google.reviews(json.dumps(page2).encode(), token=PAGE2_TOKEN)
    google.reviews(json.dumps(page1).encode())
    batch = fetch(google)
    assert ids(batch) == PAGE1_IDS + PAGE2_IDS


def test_translated_reviews_keep_the_original(google):
    google.server.expect_request(
        REVIEWS, query_string={"maxResults": "100", "translationLanguage": "en"},
    ).respond_with_data(recorded("reviews_translated.json"), content_type="application/json")
    (review,) = fetch(google, translation_language="en").items
    assert review.text == "The app is fast, but I miss the German help pages."
    assert review.lang_hint == "en"
    assert review.extra["original_text"].endswith("die deutschen Hilfeseiten.")
    assert review.extra["original_lang"] == "de"


@pytest.mark.parametrize("body", [b"{}", b"", b'{"pageInfo": {"totalResults": 0}}'])
def test_no_review_is_an_empty_batch(google, body):
    google.reviews(body)
    batch = fetch(google)
    assert batch.items == [] and not batch.more and batch.cursor["since"] is None


def test_a_cursor_of_another_app_is_not_reused(google):
    serve_both_pages(google)
    stale = {"v": 1, "package": "com.other.app", "since": "2026-11-24T17:59:00+00:00",
             "since_ids": []}
    assert len(fetch(google, stale).items) == 5


# --- faults: the reviews API -------------------------------------------------------


def test_no_permission_is_permanent_with_a_plain_hint(google):
    google.reviews(recorded("error_permission.json"), status=403)
    error = fails(google)
    assert error.permanent
    message = str(error)
    assert "The caller does not have permission" in message and "Play Console" in message
    assert "veilleur-reviews@nuvia-play-reviews.iam.gserviceaccount.com" in message


def test_refused_credentials_are_permanent(google):
    google.reviews(recorded("error_unauthenticated.json"), status=401)
    error = fails(google)
    assert error.permanent and "HTTP 401" in str(error)


def test_a_disabled_api_is_permanent_and_says_what_to_enable(google):
    google.reviews(recorded("error_api_disabled.json"), status=403)
    error = fails(google)
    assert error.permanent and "not enabled" in str(error)


def test_an_unknown_package_is_permanent(google):
    google.reviews(recorded("error_not_found.json"), status=404)
    error = fails(google)
    assert error.permanent and "HTTP 404" in str(error) and PACKAGE in str(error)


def test_429_with_retry_after_is_transient(google):
    google.reviews(recorded("error_quota.json"), status=429, headers={"Retry-After": "120"})
    error = fails(google)
    assert not error.permanent and error.retry_after == 120


def test_a_quota_403_is_transient(google):
    body = json.loads(recorded("error_quota.json"))
    body["error"]["code"] = 403
    google.reviews(json.dumps(body).encode(), status=403)
    error = fails(google)
    assert not error.permanent and error.retry_after == googleplay.QUOTA_WAIT_SECONDS


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_transient(google, status):
    google.reviews(b'{"error": {"code": 500, "message": "Internal error encountered."}}',
                   status=status)
    error = fails(google)
    assert not error.permanent and f"HTTP {status}" in str(error)


def test_a_silent_api_times_out(google, settings):
    settings.CONNECTOR_HTTP_TIMEOUT = 0.5
    with raw_peer(b"", hold=3) as url:
        settings.CONNECTOR_ENDPOINTS = {"googleplay": url}
        error = fails(google)
    assert "did not answer within 0.5 s" in str(error) and not error.permanent


def test_a_truncated_body_is_transient(google, settings):
    with raw_peer(truncated_response(recorded("reviews_page1.json"))) as url:
        settings.CONNECTOR_ENDPOINTS = {"googleplay": url}
        error = fails(google)
    assert "truncated" in str(error) and not error.permanent


def test_a_malformed_body_is_transient(google):
    google.reviews(b'{"reviews": [{"reviewId": "gp:x", "comm')
    error = fails(google)
    assert "malformed JSON" in str(error) and not error.permanent


@pytest.mark.parametrize("body", [b"[]", b'{"reviews": {"reviewId": "x"}}'])
def test_json_of_another_shape_is_an_error(google, body):
    google.reviews(body)
    assert "unexpected shape" in str(fails(google))


@pytest.mark.parametrize("declare_length", [False, True])
def test_a_50_mb_body_is_refused_unread(google, declare_length):
    body = FiftyMegabytes(declare_length=declare_length)
    google.server.expect_request(REVIEWS).respond_with_response(body.response())
    error = fails(google)
    assert "limit" in str(error) and not error.permanent
    assert body.sent < 20


# --- faults: the token endpoint ----------------------------------------------------


def test_a_key_google_does_not_know_is_refused_permanently(google):
    google.reviews(recorded("reviews_page1.json"))
    error = fails(google, key="unknown")
    assert error.permanent
    assert "the service account key was refused" in str(error)
    assert "invalid_grant" in str(error) and "Invalid JWT Signature" in str(error)
    assert google.requested() == []  # the reviews API was never called


def test_the_recorded_invalid_grant_answer(httpserver: HTTPServer, settings, keys):
    settings.CONNECTOR_ENDPOINTS = {"googleplay": httpserver.url_for("").rstrip("/")}
    httpserver.expect_request("/token").respond_with_data(
        recorded("token_invalid_grant.json"), status=400, content_type="application/json")
    config = CONNECTOR.validate_config({
        "package_name": PACKAGE,
        "service_account_json": key_file(httpserver.url_for("/token"), keys["good"])})
    with pytest.raises(SourceError) as caught:
        CONNECTOR.fetch(config, None, NOW)
    assert caught.value.permanent and "refused" in str(caught.value)


def test_token_endpoint_outages_are_transient(httpserver: HTTPServer, settings, keys):
    settings.CONNECTOR_ENDPOINTS = {"googleplay": httpserver.url_for("").rstrip("/")}
    key = key_file(httpserver.url_for("/token"), keys["good"])
    config = CONNECTOR.validate_config({"package_name": PACKAGE, "service_account_json": key})
    for status, body in [(503, b"unavailable"), (200, b'{"token_type": "Bearer"}'),
                         (200, b"<html>")]:
        httpserver.clear()
        httpserver.expect_request("/token").respond_with_data(body, status=status)
        with pytest.raises(SourceError) as caught:
            CONNECTOR.fetch(config, None, NOW)
        assert not caught.value.permanent, (status, body)


def test_no_secret_reaches_an_error_message(google):
    google.reviews(recorded("error_permission.json"), status=403)
    key = key_file(google.token_uri, google.keys["good"])
    private = json.loads(key)["private_key"]
    for broken in (fails(google), fails(google, key="unknown")):
        text = str(broken)
        assert ACCESS_TOKEN not in text and "PRIVATE KEY" not in text
        assert private.splitlines()[1] not in text


# --- settings ------------------------------------------------------------------------


def test_config_accepts_a_full_size_key_and_a_play_link(google):
    key = key_file(google.token_uri, google.keys["good"])
    assert len(key) > 2000  # real key files are longer than ordinary settings
    clean = CONNECTOR.validate_config({
        "package_name": f"https://play.google.com/store/apps/details?id={PACKAGE}&hl=fr",
        "service_account_json": "\n" + key + "\n", "translation_language": ""})
    assert clean == {"package_name": PACKAGE, "service_account_json": key}
    with_language = CONNECTOR.validate_config({
        "package_name": PACKAGE, "service_account_json": key, "translation_language": "en_GB"})
    assert with_language["translation_language"] == "en_GB"


# One key for the settings tests, made once (they only read it).
_SETTINGS_KEY = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _key(**changes) -> str:
    key = json.loads(recorded("service_account.json"))
    key["private_key"] = _SETTINGS_KEY
    key.update(changes)
    return json.dumps({k: v for k, v in key.items() if v is not None})


@pytest.mark.parametrize(("changes", "message"), [
    ({"package_name": ""}, "package_name: required"),
    ({"package_name": "nuvia"}, "package_name: expected the app's package name"),
    ({"package_name": "fr.nuvia.-banque"}, "package_name:"),
    ({"package_name": "https://apps.apple.com/fr/app/id1"}, "package_name:"),
    ({"service_account_json": ""}, "service_account_json: required"),
    ({"service_account_json": "{not json"}, "service_account_json: not valid JSON"),
    ({"service_account_json": "[]"}, "service_account_json: expected the JSON key file"),
    ({"service_account_json": _key(type="authorized_user")}, "not a service account key"),
    ({"service_account_json": _key(client_email=None)}, "has no client_email"),
    ({"service_account_json": _key(client_email="nobody")}, "not an e-mail address"),
    ({"service_account_json": _key(token_uri=None)}, "has no token_uri"),
    ({"service_account_json": _key(token_uri="ftp://x/token")}, "token_uri is not"),
    ({"service_account_json": _key(private_key="-----BEGIN PRIVATE KEY-----\nAAAA\n")},
     "the private_key cannot be read"),
    ({"service_account_json": "x" * 30_000}, "longer than"),
    ({"service_account_json": 12}, "expected the contents"),
    ({"translation_language": "french!"}, "translation_language: expected a language code"),
    ({"api_key": "AIza"}, "api_key: unknown setting"),
])
def test_config_errors(changes, message):
    config = {"package_name": PACKAGE, "service_account_json": _key(), **changes}
    with pytest.raises(ConfigInvalid, match=message) as caught:
        CONNECTOR.validate_config(config)
    assert "PRIVATE KEY" not in str(caught.value)


def test_an_ec_key_is_refused():
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    with pytest.raises(ConfigInvalid, match="not an RSA key"):
        CONNECTOR.validate_config(
            {"package_name": PACKAGE, "service_account_json": _key(private_key=pem)})


# --- through the pipeline -----------------------------------------------------------


@pytest.mark.django_db
def test_reviews_are_stored_through_the_pipeline(google, acme):
    from veilleur.monitoring.models import Mention, Source
    from veilleur.monitoring.pipeline import poll_source
    from veilleur.monitoring.sources import create_source

    serve_both_pages(google)
    key = key_file(google.token_uri, google.keys["good"])
    source = create_source(acme, "googleplay", "Nuvia Android",
                           {"package_name": PACKAGE, "service_account_json": key})
    stored_key = Source.objects.get(pk=source.pk).config["service_account_json"]
    assert stored_key.startswith("enc:v1:") and "PRIVATE" not in stored_key
    report = poll_source(source.pk, NOW)
    assert report.error == "" and report.stored == 5
    mention = Mention.objects.get(source=source, external_id=PAGE1_IDS[1])
    assert mention.title == "Enfin le paiement sans contact"
    assert mention.extra["rating"] == 5 and mention.extra["replied"] is True
    assert mention.author.platform == "googleplay"
    source.refresh_from_db()
    assert source.cursor["since_ids"] == [PAGE1_IDS[0]]
