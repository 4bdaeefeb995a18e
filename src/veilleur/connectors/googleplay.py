"""Google Play reviews of your own apps, from the official Google Play Developer API.

``GET {base}/androidpublisher/v3/applications/{package}/reviews`` lists the reviews
that were written or edited during the last week, newest first, for an app the
caller may see in Play Console. Reviews of other publishers' apps are not available
through the API, and scraping the public store pages for them is deliberately not
done (terms of service, fragile markup).

Authentication is a service account: the connector signs a JWT (RS256, with the key
file's private key) and trades it at the key's ``token_uri`` for an access token, one
per poll. PyJWT signs; the token request goes through our ``HttpClient`` like every
other request. google-auth is not used: it brings its own HTTP stack, which would
bypass the private-network guard and the size limits.

Cursor (JSON): ``{"v": 1, "package": "...", "since": iso, "since_ids": [...]}``:
the newest ``lastModified`` seen and the review ids at exactly that time (two
reviews can share it). A review is new when it was modified after ``since``, or at
``since`` with an id not in ``since_ids``. Paging stops at the first page reaching
what was already seen; a poll reads at most ``PAGES_PER_FETCH`` pages, and when
more remain their page token waits in ``pending`` (with the newest time found so
far) and ``more`` is set. An edit of a review already stored is not stored again
(same review id).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from veilleur.connectors.base import (
    JSON,
    Batch,
    ConfigField,
    ConfigInvalid,
    RawItem,
    SourceError,
)
from veilleur.connectors.fields import clean_fields, clean_url, invalid
from veilleur.connectors.http import HttpClient, Response, describe, endpoint, error_for_status

DEFAULT_BASE_URL = "https://androidpublisher.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
KEY_FIELD = "service_account_json"
PAGE_SIZE = 100
PAGES_PER_FETCH = 5
MAX_KEY_CHARS = 20_000
MAX_SINCE_IDS = 200
MAX_TOKEN_CHARS = 2048  # a longer page token is not kept in the cursor: paging stops
MAX_ORIGINAL_CHARS = 5000
CURSOR_VERSION = 1
# Google's default name for reviewers who chose not to show theirs: not one person.
ANONYMOUS_NAMES = frozenset({"A Google user", "Un utilisateur de Google"})
# 403 reasons that mean "slow down" (quota), not "no permission".
_QUOTA_REASONS = frozenset({
    "rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded",
    "RATE_LIMIT_EXCEEDED", "RESOURCE_EXHAUSTED",
})
_API_DISABLED_REASONS = frozenset({"accessNotConfigured", "SERVICE_DISABLED"})
QUOTA_WAIT_SECONDS = 900.0

_PACKAGE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})?$")


def parse_package(value: str) -> str:
    """A package name, from itself or from a Google Play link (``details?id=...``)."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() in ("http", "https"):
        host = (parts.hostname or "").lower()
        ids = parse_qs(parts.query).get("id", [""]) if host == "play.google.com" else [""]
        value = ids[0].strip()
    if not _PACKAGE.match(value) or len(value) > 255:
        raise invalid("package_name", gettext(
            "expected the app's package name, e.g. com.example.app, or its "
            "Google Play link"))
    return value


def review_url(package: str, review_id: str) -> str:
    return "https://play.google.com/store/apps/details?" + urlencode(
        {"id": package, "reviewId": review_id})


@dataclass(frozen=True)
class ServiceAccount:
    client_email: str
    private_key: rsa.RSAPrivateKey = field(repr=False)
    private_key_id: str
    token_uri: str


def read_key(text: str) -> ServiceAccount:
    """The useful parts of a service account key file; ConfigInvalid saying what is wrong.

    Messages never quote the key's contents.
    """
    name = KEY_FIELD
    if len(text) > MAX_KEY_CHARS:
        raise invalid(name, gettext("longer than %(limit)s characters: not a key file"),
                      limit=MAX_KEY_CHARS)
    try:
        key = json.loads(text)
    except ValueError:
        raise invalid(name, gettext(
            "not valid JSON; paste the whole key file downloaded from Google "
            "Cloud (IAM, Service accounts, Keys, Add key, JSON)")) from None
    if not isinstance(key, dict):
        raise invalid(name, gettext("expected the JSON key file of a service account"))
    kind = key.get("type", "service_account")
    if kind != "service_account":
        raise invalid(
            name,
            gettext("this key file is of type %(kind)s, not a service account key "
                    "('service_account')"),
            kind=repr(str(kind)[:40]))
    for part in ("client_email", "private_key", "token_uri"):
        if not isinstance(key.get(part), str) or not key[part].strip():
            # Translators: %(part)s is the name of an entry of the file, kept as it is.
            raise invalid(name, gettext("the key file has no %(part)s"), part=part)
    if "@" not in key["client_email"]:
        raise invalid(name, gettext("client_email is not an e-mail address"))
    try:
        private = serialization.load_pem_private_key(key["private_key"].encode(), None)
    except (ValueError, TypeError):
        raise invalid(name, gettext("the private_key cannot be read")) from None
    if not isinstance(private, rsa.RSAPrivateKey):
        raise invalid(name, gettext("the private_key is not an RSA key"))
    try:
        token_uri = clean_url(name, key["token_uri"])
    except ConfigInvalid:
        raise invalid(name, gettext("token_uri is not an http(s) address")) from None
    return ServiceAccount(
        client_email=key["client_email"].strip(),
        private_key=private,
        private_key_id=str(key.get("private_key_id") or ""),
        token_uri=token_uri,
    )


class GooglePlayConnector:
    """Reviews of one of your Android apps, through the Google Play Developer API."""

    kind = "googleplay"
    platform = "googleplay"
    label = _("Google Play reviews")
    # Google caps reads of the reviews API per hour (200 when this was written); a poll
    # reads up to 5 pages, so 5 minutes between polls stays well within it.
    min_interval = 300
    fields = (
        ConfigField(
            "package_name", _("Package name"), required=True,
            help=_("The app's package name, e.g. com.example.app, or its Google Play "
                   "link. The app must be yours: Google only gives its reviews to its "
                   "developer.")),
        ConfigField(
            KEY_FIELD, _("Service account key (JSON)"), type="secret", required=True,
            max_length=MAX_KEY_CHARS,
            help=_("The whole JSON key file of a Google Cloud service account that has "
                   "access to this app in Play Console (see the documentation).")),
        ConfigField(
            "translation_language", _("Translate reviews into"),
            help=_("Optional: a language code such as fr or en; Google then sends the "
                   "reviews translated, with the original text kept alongside.")),
    )

    def coverage(self, config: Mapping[str, JSON]) -> list[str]:
        return [gettext("Google gives only the reviews of the last seven days that have a "
                        "text, for apps this service account may manage.")]

    def validate_config(self, config: Mapping[str, JSON]) -> dict[str, JSON]:
        return self._validate(config)[0]

    def _validate(self, config: Mapping[str, JSON]) -> tuple[dict[str, JSON], ServiceAccount]:
        key_text = config.get(KEY_FIELD)
        # The key file is longer than ordinary settings: it is checked here instead.
        clean = clean_fields(self.fields, {**config, KEY_FIELD: "checked below"})
        clean["package_name"] = parse_package(str(clean["package_name"]))
        if key_text is None or (isinstance(key_text, str) and not key_text.strip()):
            raise invalid(KEY_FIELD, gettext("required"))
        if not isinstance(key_text, str):
            raise invalid(KEY_FIELD, gettext("expected the contents of the JSON key file"))
        account = read_key(key_text.strip())
        clean[KEY_FIELD] = key_text.strip()
        language = str(clean.get("translation_language") or "")
        if language and not _LANGUAGE.match(language):
            raise invalid(
                "translation_language",
                gettext("expected a language code such as fr or en_GB, got %(value)s"),
                value=repr(language[:20]))
        if not language:
            clean.pop("translation_language", None)
        return clean, account

    def fetch(self, config: Mapping[str, JSON], cursor: JSON, now: datetime) -> Batch:
        try:
            with translation.override("en"):  # stored with the source: in English
                config, key = self._validate(config)
        except ConfigInvalid as exc:
            raise SourceError(f"invalid settings: {exc}", permanent=True) from None
        package = str(config["package_name"])
        language = str(config.get("translation_language") or "")
        state = _load_cursor(cursor, package)
        since = _parse_iso(state["since"])
        since_ids = set(state["since_ids"])
        pending = state.pop("pending", None)
        base = endpoint(self.kind, DEFAULT_BASE_URL)
        url = f"{base}/androidpublisher/v3/applications/{package}/reviews"

        token = pending["token"] if pending else ""
        high = _parse_iso(pending["high"]) if pending else since
        high_ids = set(pending["high_ids"] if pending else state["since_ids"])
        items: list[RawItem] = []
        seen_here: set[str] = set()
        used: set[str] = set()  # page tokens asked for by this poll
        with HttpClient() as http:
            access = _access_token(http, key)
            pages = 0
            while True:
                params: dict[str, Any] = {"maxResults": PAGE_SIZE}
                if token:
                    params["token"] = token
                    used.add(token)
                if language:
                    params["translationLanguage"] = language
                response = http.get(url, params=params, check=False,
                                    headers={"Authorization": f"Bearer {access}"})
                if response.status == 400 and token and pending:
                    # The saved page token expired: start again from the newest review.
                    token, pending = "", None
                    high, high_ids = since, set(state["since_ids"])
                    continue
                _raise_for_status(response, package, key.client_email)
                pages += 1
                body = _body(response)
                reached_seen = False
                for review in _reviews(body):
                    item, modified = _review(review, package, language, now)
                    if item is None or item.external_id in seen_here:
                        continue
                    if modified is not None and since is not None and (
                        modified < since
                        or (modified == since and item.external_id in since_ids)
                    ):
                        reached_seen = True
                        continue
                    seen_here.add(item.external_id)
                    items.append(item)
                    if modified is not None:
                        if high is None or modified > high:
                            high, high_ids = modified, {item.external_id}
                        elif modified == high:
                            high_ids.add(item.external_id)
                token = _next_token(body)
                if token in used or len(token) > MAX_TOKEN_CHARS:
                    # The same token again (or an absurd one): a server that does not
                    # move on would keep ``more`` set, and the source re-polled, for ever.
                    token = ""
                if reached_seen or not token:
                    more = False
                    break
                if pages >= PAGES_PER_FETCH:
                    more = True
                    break
        if more:
            # Keep the old ``since`` until the backlog is read: nothing is skipped.
            state["pending"] = {"token": token, "high": _iso(high),
                                "high_ids": sorted(high_ids)[:MAX_SINCE_IDS]}
        else:
            state["since"] = _iso(high)
            state["since_ids"] = sorted(high_ids)[:MAX_SINCE_IDS]
        return Batch(items=items, cursor=state, hint=response.hint(honour_cache=False),
                     more=more)


def _load_cursor(cursor: JSON, package: str) -> dict[str, Any]:
    if (
        isinstance(cursor, dict)
        and cursor.get("v") == CURSOR_VERSION
        and cursor.get("package") == package
        and isinstance(cursor.get("since_ids"), list)
    ):
        state = {"v": CURSOR_VERSION, "package": package,
                 "since": cursor.get("since") if isinstance(cursor.get("since"), str) else None,
                 "since_ids": [str(i) for i in cursor["since_ids"]]}
        pending = cursor.get("pending")
        if (isinstance(pending, dict) and isinstance(pending.get("token"), str)
                and isinstance(pending.get("high_ids"), list)):
            state["pending"] = pending
        return state
    return {"v": CURSOR_VERSION, "package": package, "since": None, "since_ids": []}


def _access_token(http: HttpClient, key: ServiceAccount) -> str:
    """An OAuth access token for the service account (JWT bearer grant, RFC 7523)."""
    issued = int(time.time())  # the wall clock: Google checks it, whatever the poll's clock
    claims = {"iss": key.client_email, "scope": SCOPE, "aud": key.token_uri,
              "iat": issued, "exp": issued + 3600}
    headers = {"kid": key.private_key_id} if key.private_key_id else None
    try:
        assertion = jwt.encode(claims, key.private_key, algorithm="RS256", headers=headers)
    except (ValueError, TypeError, jwt.PyJWTError):
        raise SourceError("the service account's private key cannot sign a token",
                          permanent=True) from None
    where = describe(key.token_uri)
    response = http.post(key.token_uri, data={"grant_type": JWT_GRANT,
                                              "assertion": assertion}, check=False)
    if response.status in (400, 401, 403):
        code, detail = _token_error(response)
        raise SourceError(
            f"the service account key was refused by {where} (HTTP {response.status}"
            f"{': ' + code if code else ''}{' - ' + detail if detail else ''}): check that "
            "the key is still active in Google Cloud (IAM, Service accounts, Keys) and "
            "that this server's clock is right", permanent=True)
    error = error_for_status(response)
    if error is not None:
        raise error
    body = response.json()
    access = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(access, str) or not access:
        raise SourceError(f"{where} answered without an access token")
    return access


def _token_error(response: Response) -> tuple[str, str]:
    """``(error, error_description)`` of an OAuth error answer, bounded."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    code, detail = body.get("error"), body.get("error_description")
    return (str(code)[:60] if isinstance(code, str) else "",
            " ".join(str(detail).split())[:200] if isinstance(detail, str) else "")


def _google_error(response: Response) -> tuple[str, set[str]]:
    """The message and reasons of a Google API error body (``{"error": {...}}``)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return "", set()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", set()
    message = " ".join(str(error.get("message") or "").split())[:200]
    reasons = {str(error.get("status") or "")}
    for part in (error.get("errors") or []) + (error.get("details") or []):
        if isinstance(part, dict) and part.get("reason"):
            reasons.add(str(part["reason"]))
    return message, reasons - {""}


def _raise_for_status(response: Response, package: str, client_email: str) -> None:
    status = response.status
    if status < 400:
        return
    message, reasons = _google_error(response)
    said = f": {message}" if message else ""
    if status == 429 or (status == 403 and reasons & _QUOTA_REASONS):
        wait = response.hint(honour_cache=False).retry_after
        raise SourceError(
            f"Google Play's reviews quota is used up for now (HTTP {status}{said}); "
            "will retry", retry_after=wait if wait is not None else QUOTA_WAIT_SECONDS)
    if status == 403 and reasons & _API_DISABLED_REASONS:
        raise SourceError(
            f"the Google Play Android Developer API is not enabled for the service "
            f"account's Google Cloud project (HTTP 403{said}): enable it in Google Cloud "
            "(APIs & Services, Library)", permanent=True)
    if status in (401, 403):
        raise SourceError(
            f"Google Play refused to show the reviews of {package} (HTTP {status}{said}): "
            f"in Play Console, Users and permissions, invite {client_email} and give it "
            "access to this app with the permission to see app information and reply to "
            "reviews; a new grant can take some hours to apply", permanent=True)
    if status == 404:
        raise SourceError(
            f"Google Play knows no app {package} for this account (HTTP 404{said}): check "
            "the package name and that the app is published", permanent=True)
    if status == 400:
        raise SourceError(f"Google Play refused the request (HTTP 400{said})",
                          permanent=True)
    error = error_for_status(response)
    if error is not None:
        raise error


def _body(response: Response) -> dict[str, Any]:
    if not response.content.strip():
        return {}
    body = response.json()
    if not isinstance(body, dict):
        raise SourceError("the Google Play reviews API sent JSON of an unexpected shape")
    return body


def _reviews(body: dict[str, Any]) -> list[dict[str, Any]]:
    reviews = body.get("reviews")  # absent when there is none
    if reviews is None:
        return []
    if not isinstance(reviews, list):
        raise SourceError("the Google Play reviews API sent JSON of an unexpected shape")
    return [review for review in reviews if isinstance(review, dict)]


def _next_token(body: dict[str, Any]) -> str:
    pagination = body.get("tokenPagination")
    if isinstance(pagination, dict) and isinstance(pagination.get("nextPageToken"), str):
        return str(pagination["nextPageToken"])
    return ""


def _timestamp(value: Any) -> datetime | None:
    """A protobuf Timestamp as JSON (``{"seconds": "1732450000", "nanos": 5}``) in UTC."""
    if not isinstance(value, dict):
        return None
    try:
        seconds = int(value.get("seconds", ""))
        nanos = int(value.get("nanos") or 0)
        when = datetime.fromtimestamp(seconds, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return when.replace(microsecond=max(0, min(nanos, 999_999_999)) // 1000)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _parse_iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _language(code: Any) -> str:
    """ISO 639 part of a locale (``fr_FR`` -> ``fr``), or ''."""
    if isinstance(code, str) and _LANGUAGE.match(code.strip()):
        return re.split(r"[_-]", code.strip())[0].lower()
    return ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _review(
    review: dict[str, Any], package: str, language: str, now: datetime
) -> tuple[RawItem | None, datetime | None]:
    """A review as a RawItem, and its last modification time (None when it has none)."""
    review_id = review.get("reviewId")
    comments = review.get("comments")
    if not isinstance(review_id, str) or not review_id or not isinstance(comments, list):
        return None, None
    user: dict[str, Any] | None = None
    reply: dict[str, Any] | None = None
    for comment in comments:
        if not isinstance(comment, dict):
            continue
        if isinstance(comment.get("userComment"), dict) and user is None:
            user = comment["userComment"]
        if isinstance(comment.get("developerComment"), dict):
            reply = comment["developerComment"]
    if user is None:
        return None, None
    raw_text = str(user.get("text") or "")
    title, _tab, body = raw_text.partition("\t")
    if not _tab:  # no title: the whole text is the body
        title, body = "", raw_text
    modified = _timestamp(user.get("lastModified"))
    extra: dict[str, JSON] = {"item_type": "review", "replied": reply is not None}
    rating = _int(user.get("starRating"))
    if rating is not None and 1 <= rating <= 5:
        extra["rating"] = rating
    if isinstance(user.get("appVersionName"), str):
        extra["app_version"] = user["appVersionName"]
    if isinstance(user.get("device"), str):
        extra["device"] = user["device"]
    if _int(user.get("androidOsVersion")) is not None:
        extra["android_sdk"] = _int(user.get("androidOsVersion"))
    if _int(user.get("thumbsUpCount")) is not None:
        extra["score"] = _int(user.get("thumbsUpCount"))
    if reply is not None:
        replied_at = _timestamp(reply.get("lastModified"))
        if replied_at is not None:
            extra["replied_at"] = replied_at.isoformat()
    lang = _language(user.get("reviewerLanguage"))
    original = user.get("originalText")
    if isinstance(original, str) and original.strip():
        # Google translated the text: it is now in the language asked for.
        extra["original_text"] = original[:MAX_ORIGINAL_CHARS]
        extra["original_lang"] = lang
        lang = _language(language)
    if modified is None:
        extra["date_estimated"] = True
    author = str(review.get("authorName") or "").strip()
    item = RawItem(
        external_id=review_id,
        text=body.strip(),
        title=title.strip(),
        url=review_url(package, review_id),
        published_at=modified or now,
        author_handle="" if author in ANONYMOUS_NAMES else author,
        author_name=author,
        lang_hint=lang,
        extra=extra,
    )
    return item, modified
