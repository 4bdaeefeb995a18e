"""The inbound webhook: the signed endpoint (veilleur.hooks) and the webhook connector."""

from __future__ import annotations

import io
import json
import time
from datetime import timedelta

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from tests.connectors.peers import fixture_bytes
from veilleur.connectors.base import ConfigInvalid, SourceError
from veilleur.connectors.secrets import is_sealed
from veilleur.connectors.webhook import WebhookConnector
from veilleur.hooks import services, views
from veilleur.hooks.models import WebhookDelivery
from veilleur.hooks.signing import sign
from veilleur.monitoring import pipeline
from veilleur.monitoring.models import Mention, Source
from veilleur.monitoring.pipeline import poll_source
from veilleur.monitoring.sources import create_source, set_enabled, test_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(acme):
    return create_source(acme, "webhook", "Partner push", {})


def post(client: Client, source: Source, body: bytes, *, secret: str | None = None,
         timestamp: int | None = None, delivery: str = "", signature: str | None = None,
         path: str | None = None, **extra):
    """POST ``body`` to the source's endpoint, signed like a well-behaved sender."""
    stamp = int(time.time()) if timestamp is None else timestamp
    if signature is None:
        signature = sign(secret or services.reveal_secret(source), stamp, body)
    headers = {"X-Veilleur-Timestamp": str(stamp), "X-Veilleur-Signature": signature}
    if delivery:
        headers["X-Veilleur-Delivery"] = delivery
    return client.post(path or services.endpoint_path(source), data=body,
                       content_type="application/json", headers=headers, **extra)


def stored(source: Source) -> int:
    return WebhookDelivery.objects.filter(source=source).count()


# --- configuration ------------------------------------------------------------------


def test_a_new_source_gets_a_secret_and_an_unguessable_address(acme, hook):
    other = create_source(acme, "webhook", "Other push", {})
    assert is_sealed(hook.config["secret"])  # encrypted at rest
    secret = services.reveal_secret(hook)
    assert len(secret) >= 32 and secret not in json.dumps(hook.config)
    assert services.reveal_secret(other) != secret
    token = hook.config["path_token"]
    assert len(token) >= 24 and token != other.config["path_token"]
    assert services.endpoint_path(hook) == f"/hooks/{hook.pk}/{token}"


@pytest.mark.parametrize(("config", "error"), [
    ({"secret": "short"}, "secret: at least 24"),
    ({"path_token": "guessable"}, "path_token: 24 to 128"),
    ({"path_token": "a/b" * 10}, "path_token:"),
    ({"url": "https://example.org"}, "url: unknown setting"),
])
def test_validate_config_refuses_weak_or_unknown_settings(config, error):
    with pytest.raises(ConfigInvalid, match=error):
        WebhookConnector().validate_config(config)


def test_a_chosen_secret_and_token_are_kept():
    clean = WebhookConnector().validate_config(
        {"secret": "s" * 40, "path_token": "T" * 30})
    assert clean == {"secret": "s" * 40, "path_token": "T" * 30}


# --- accepted deliveries ---------------------------------------------------------------


def test_a_signed_batch_is_stored_and_the_source_polled_at_once(client, hook):
    Source.objects.filter(pk=hook.pk).update(next_poll_at=timezone.now() + timedelta(hours=1))
    response = post(client, hook, fixture_bytes("webhook", "batch.json"), delivery="zap-8841")
    assert response.status_code == 202 and response.json() == {"accepted": 3}
    delivery = WebhookDelivery.objects.get(source=hook)
    assert delivery.item_count == 3 and delivery.delivery_id == "zap-8841"
    first, second, third = delivery.items
    assert first["published_at"] == "2025-03-04T08:15:00+00:00"  # to UTC
    assert first["followers"] == 312 and first["platform"] == "forum"
    assert second["rating"] == 4 and second["lang"] == "en-gb"
    assert third["id"].startswith("sha256:")  # no id sent: derived from the content
    assert third["published_at"] == "2025-03-04T11:40:00+00:00"  # no offset: UTC
    hook.refresh_from_db()
    assert hook.next_poll_at <= timezone.now()


def test_a_single_item_object_is_accepted(client, hook):
    response = post(client, hook, fixture_bytes("webhook", "single-item.json"))
    assert response.status_code == 202 and response.json() == {"accepted": 1}
    assert WebhookDelivery.objects.get(source=hook).items[0]["id"] == "90211"


def test_the_path_accepts_a_trailing_slash(client, hook):
    response = post(client, hook, b'{"text": "ok"}', path=services.endpoint_path(hook) + "/")
    assert response.status_code == 202


def test_the_signing_example_of_the_docs_holds():
    # docs/sources/webhook.md shows this exact signature for this secret, time and body.
    body = b'{"items":[{"id":"42","text":"Bonjour Fibrelune"}]}'
    assert sign("whsec-docs-example-0123456789abcdef", 1741080000, body) == (
        "sha256=98c552aa84e8c8811f88b3131b905e12c179705d74057f0fc779c0eb367cb09d")


# --- rejected requests -----------------------------------------------------------------


@pytest.mark.parametrize("signature", [
    "", "sha256=" + "0" * 64, "md5=abc", "sha256=not-hex",
])
def test_a_missing_or_wrong_signature_is_refused(client, hook, signature):
    response = post(client, hook, b'{"text": "hello"}', signature=signature)
    assert response.status_code == 401 and "signature" in response.json()["error"].lower()
    assert stored(hook) == 0


def test_a_signature_made_with_another_secret_or_another_body_is_refused(client, acme, hook):
    other = create_source(acme, "webhook", "Other push", {})
    response = post(client, hook, b'{"text": "x"}', secret=services.reveal_secret(other))
    assert response.status_code == 401
    stamp = int(time.time())
    tampered = post(client, hook, b'{"text": "y"}', timestamp=stamp,
                    signature=sign(services.reveal_secret(hook), stamp, b'{"text": "x"}'))
    assert tampered.status_code == 401 and stored(hook) == 0


@pytest.mark.parametrize("age", [301, -301, 86400])
def test_a_timestamp_outside_the_window_is_refused(client, hook, age):
    response = post(client, hook, b'{"text": "old"}', timestamp=int(time.time()) - age)
    assert response.status_code == 401
    assert response.json()["error"] == "timestamp outside the 5-minute window"
    assert stored(hook) == 0


def test_a_timestamp_inside_the_window_is_accepted(client, hook):
    response = post(client, hook, b'{"text": "a bit late"}', timestamp=int(time.time()) - 200)
    assert response.status_code == 202


@pytest.mark.parametrize("stamp", ["", "soon", "1.5e9", "12345678901234"])
def test_a_missing_or_malformed_timestamp_is_refused(client, hook, stamp):
    body = b'{"text": "x"}'
    response = client.post(
        services.endpoint_path(hook), data=body, content_type="application/json",
        headers={"X-Veilleur-Timestamp": stamp,
                 "X-Veilleur-Signature": sign(services.reveal_secret(hook), stamp, body)})
    assert response.status_code == 401 and "X-Veilleur-Timestamp" in response.json()["error"]


def test_a_replayed_delivery_id_stores_nothing_again(client, acme, hook):
    body = fixture_bytes("webhook", "batch.json")
    assert post(client, hook, body, delivery="d-1").status_code == 202
    again = post(client, hook, body, delivery="d-1")  # even re-signed later
    assert again.status_code == 200 and again.json() == {"accepted": 0, "duplicate": True}
    # Another delivery (signed at another second: the same body signed at the same
    # second is the same signed request, whatever id it carries).
    assert post(client, hook, body, delivery="d-2", timestamp=int(time.time()) - 100
                ).status_code == 202
    assert stored(hook) == 2
    # Delivery ids are per source.
    other = create_source(acme, "webhook", "Other push", {})
    assert post(client, other, body, delivery="d-1").status_code == 202


def test_an_exact_replay_without_delivery_id_is_recognised(client, hook):
    stamp = int(time.time())
    body = b'{"text": "once"}'
    assert post(client, hook, body, timestamp=stamp).status_code == 202
    replay = post(client, hook, body, timestamp=stamp)
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    assert stored(hook) == 1


def test_a_captured_request_replayed_under_another_delivery_id_stores_nothing(client, hook):
    # X-Veilleur-Delivery is not signed: whoever captured a request could change it.
    stamp = int(time.time())
    body = b'{"text": "once"}'
    assert post(client, hook, body, timestamp=stamp, delivery="d-1").status_code == 202
    for delivery in ("d-1-replayed", "another", ""):
        replay = post(client, hook, body, timestamp=stamp, delivery=delivery)
        assert replay.status_code == 200 and replay.json()["duplicate"] is True, delivery
    assert stored(hook) == 1
    # The same delivery re-signed later (a retry) is still recognised by its id.
    again = post(client, hook, body, timestamp=stamp - 5, delivery="d-1")
    assert again.status_code == 200 and stored(hook) == 1


def test_deliveries_of_a_source_are_accepted_one_at_a_time(client, hook, monkeypatch):
    """The source's row is locked before the delivery's id is drawn, so a source's
    delivery ids grow in commit order and a poll never moves its cursor past a
    delivery that commits later (PostgreSQL draws ids before the commit; SQLite,
    with one writer at a time, cannot show the race itself)."""
    steps: list[str] = []
    lock, create = Source.objects.select_for_update, WebhookDelivery.objects.create

    def locking(*args, **kwargs):
        steps.append("lock")
        return lock(*args, **kwargs)

    def creating(**kwargs):
        steps.append("insert")
        return create(**kwargs)

    monkeypatch.setattr(Source.objects, "select_for_update", locking)
    monkeypatch.setattr(WebhookDelivery.objects, "create", creating)
    assert post(client, hook, b'{"text": "x"}').status_code == 202
    assert steps == ["lock", "insert"]


def test_a_malformed_delivery_id_is_refused(client, hook):
    response = post(client, hook, b'{"text": "x"}', delivery="has spaces in it")
    assert response.status_code == 400 and stored(hook) == 0


def test_a_body_over_one_mebibyte_is_refused(client, hook):
    body = json.dumps({"text": "x" * (1024 * 1024)}).encode()
    response = post(client, hook, body)
    assert response.status_code == 413 and stored(hook) == 0


class _Stream:
    """A request body that counts what is read from it (and may refuse to be read)."""

    def __init__(self, size: int, *, explode: bool = False) -> None:
        self.left, self.read_bytes, self.explode = size, 0, explode

    def read(self, size: int = -1) -> bytes:
        if self.explode:
            raise AssertionError("the body was read")
        size = self.left if size is None or size < 0 else min(size, self.left)
        self.left -= size
        self.read_bytes += size
        return b"x" * size

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def _raw_request(hook, stream, length: str):
    path = services.endpoint_path(hook)
    request = RequestFactory().generic(
        "POST", path, data=b"", content_type="application/json",
        CONTENT_LENGTH=length, **{"wsgi.input": stream})
    return views.receive(request, str(hook.pk), hook.config["path_token"])


def test_a_declared_50_mb_body_is_refused_without_reading_it(hook):
    stream = _Stream(50 * 1024 * 1024, explode=True)
    response = _raw_request(hook, stream, str(50 * 1024 * 1024))
    assert response.status_code == 413


def test_a_body_longer_than_declared_is_read_only_up_to_the_bound(hook):
    stream = _Stream(50 * 1024 * 1024)
    response = _raw_request(hook, stream, "100")  # the length lies: 50 MB follow
    assert response.status_code == 401  # the 100 bytes read are not signed
    assert stream.read_bytes <= views.MAX_BODY_BYTES + 1


def _chunked_request(hook, stream, *, terminated: bool = True):
    """A chunked POST as gunicorn hands it over: no CONTENT_LENGTH, and an input
    stream that ends with the body (``wsgi.input_terminated``)."""
    stamp = int(time.time())
    body = stream.getvalue() if isinstance(stream, io.BytesIO) else b""
    environ = {"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked",
               "wsgi.input": stream, "HTTP_X_VEILLEUR_TIMESTAMP": str(stamp),
               "HTTP_X_VEILLEUR_SIGNATURE": sign(services.reveal_secret(hook), stamp, body)}
    if terminated:
        environ["wsgi.input_terminated"] = True
    request = RequestFactory().generic("POST", services.endpoint_path(hook), data=b"",
                                       content_type="application/json", **environ)
    return views.receive(request, str(hook.pk), hook.config["path_token"])


def test_a_chunked_body_without_content_length_is_read(hook):
    response = _chunked_request(hook, io.BytesIO(b'{"text": "sent in chunks"}'))
    assert response.status_code == 202, response.content
    assert WebhookDelivery.objects.get(source=hook).items[0]["text"] == "sent in chunks"


def test_a_chunked_body_over_the_bound_is_refused_after_reading_the_bound(hook):
    stream = _Stream(50 * 1024 * 1024)
    response = _chunked_request(hook, stream)
    assert response.status_code == 413 and stored(hook) == 0
    assert stream.read_bytes <= views.MAX_BODY_BYTES + 1


def test_a_chunked_body_the_server_cannot_bound_is_refused(hook):
    stream = _Stream(100, explode=True)
    response = _chunked_request(hook, stream, terminated=False)
    assert response.status_code == 411 and stored(hook) == 0


@pytest.mark.parametrize(("body", "error"), [
    (b'{"items": [', "not valid JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[1, 2]", "expected a JSON object"),
    (b'{"items": {"text": "x"}}', "items: expected a list"),
    (b'{"items": [], "extra": 1}', "extra: unknown field"),
    (b'{"items": [{"txt": "typo"}]}', "items[0].txt: unknown field"),
    (b'{"items": [{"id": "1"}]}', "items[0]: needs a non-empty 'text' or 'title'"),
    (b'{"items": ["just text"]}', "items[0]: expected an object"),
    (b'{"text": "x", "url": "javascript:alert(1)"}', "item.url: expected an absolute"),
    (b'{"text": "x", "published_at": "yesterday"}', "item.published_at:"),
    (b'{"text": "x", "followers": -3}', "item.followers:"),
    (b'{"text": "x", "followers": true}', "item.followers:"),
    (b'{"text": "x", "id": {"a": 1}}', "item.id:"),
    # Nothing the pipeline would keep: accepted with a 202, then dropped, before.
    (b'{"text": "\\u200b\\u0001", "title": "\\ufeff"}', "item: needs a non-empty 'text'"),
    (b'{"text": "x", "id": "\\u200b"}', "item.id:"),
    (b'{"text": "x", "lang": "french!"}', "item.lang:"),
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
])
def test_an_invalid_body_is_refused_saying_why(client, hook, body, error):
    response = post(client, hook, body)
    assert response.status_code == 400
    assert error in response.json()["error"]
    assert stored(hook) == 0


def test_one_bad_item_refuses_the_whole_batch(client, hook):
    response = post(client, hook, fixture_bytes("webhook", "invalid-rating.json"))
    assert response.status_code == 400
    assert response.json()["error"] == (
        "nothing was stored: items[1].rating: expected a whole number from 1 to 5")
    assert stored(hook) == 0


def test_more_than_500_items_are_refused(client, hook):
    body = json.dumps({"items": [{"text": f"n{i}"} for i in range(501)]}).encode()
    response = post(client, hook, body)
    assert response.status_code == 400 and "at most 500" in response.json()["error"]


def test_a_disabled_source_accepts_nothing(client, hook):
    set_enabled(hook, False)
    response = post(client, hook, b'{"text": "x"}')
    assert response.status_code == 410 and stored(hook) == 0


def test_unknown_endpoints_all_look_the_same(client, acme, hook):
    token = hook.config["path_token"]
    rss = Source.objects.create(workspace=acme, name="feed", kind="rss",
                                config={"path_token": token})
    for path in (f"/hooks/{hook.pk}/{'x' * len(token)}", f"/hooks/{hook.pk + 999}/{token}",
                 f"/hooks/{rss.pk}/{token}"):
        response = post(client, hook, b'{"text": "x"}', path=path)
        assert response.status_code == 404, path
        assert response.json() == {"error": "no such webhook endpoint"}
    assert stored(hook) == 0


def test_only_post_is_accepted(client, hook):
    response = client.get(services.endpoint_path(hook))
    assert response.status_code == 405 and response["Allow"] == "POST"


def test_too_many_unread_deliveries_ask_the_sender_to_retry(client, hook, monkeypatch):
    monkeypatch.setattr(services, "MAX_PENDING_DELIVERIES", 1)
    assert post(client, hook, b'{"text": "one"}').status_code == 202
    response = post(client, hook, b'{"text": "two"}')
    assert response.status_code == 429 and response["Retry-After"] == "60"
    poll_source(hook.pk)  # the poll reads the first: room again
    assert post(client, hook, b'{"text": "two"}').status_code == 202


def test_a_rotated_secret_replaces_the_old_one(client, hook):
    old = services.reveal_secret(hook)
    new = services.rotate_secret(hook)
    hook.refresh_from_db()
    assert new != old and services.reveal_secret(hook) == new
    assert post(client, hook, b'{"text": "x"}', secret=old).status_code == 401
    assert post(client, hook, b'{"text": "x"}', secret=new).status_code == 202


# --- the connector and the pipeline --------------------------------------------------


def test_poll_source_stores_the_pushed_items_once(client, hook):
    post(client, hook, fixture_bytes("webhook", "batch.json"), delivery="a")
    report = poll_source(hook.pk)
    assert (report.fetched, report.stored, report.error) == (3, 3, "")
    forum = Mention.objects.get(source=hook, external_id="zap-8841-1")
    assert forum.author.handle == "claire_m" and forum.author.platform == "forum"
    assert forum.author.display_name == "Claire Martin" and forum.reach == 312
    assert forum.lang == "fr" and forum.url.endswith("#post-3")
    assert forum.extra == {"thread_id": "5521", "parent_id": "5521-2"}
    assert forum.published_at.isoformat() == "2025-03-04T08:15:00+00:00"
    review = Mention.objects.get(source=hook, external_id="zap-8841-2")
    assert review.title == "Fibrelune Box 2 review" and review.extra == {"rating": 4}
    assert review.lang == "en" and review.author.platform == "webhook"
    hook.refresh_from_db()
    last = WebhookDelivery.objects.get(source=hook).pk
    assert hook.cursor == {"delivery": last}

    assert poll_source(hook.pk).fetched == 0  # nothing new
    post(client, hook, fixture_bytes("webhook", "single-item.json"), delivery="b")
    post(client, hook, fixture_bytes("webhook", "batch.json"), delivery="c",  # same ids
         timestamp=int(time.time()) - 100)
    report = poll_source(hook.pk)
    assert (report.fetched, report.stored, report.skipped) == (4, 1, 3)
    assert Mention.objects.filter(source=hook).count() == 4


def test_a_backlog_is_read_in_bounded_polls(client, hook, monkeypatch):
    monkeypatch.setattr("veilleur.connectors.webhook.MAX_ITEMS_PER_FETCH", 3)
    for n in range(3):
        body = json.dumps({"items": [{"id": f"{n}-a", "text": "a"},
                                     {"id": f"{n}-b", "text": "b"}]}).encode()
        post(client, hook, body, delivery=f"d{n}")
    reports = [poll_source(hook.pk) for _ in range(3)]
    assert [(r.fetched, r.more) for r in reports] == [(2, True), (2, True), (2, False)]
    assert Mention.objects.filter(source=hook).count() == 6


def test_an_item_is_not_lost_when_storing_fails(client, hook, monkeypatch):
    post(client, hook, fixture_bytes("webhook", "batch.json"))

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "_create_mentions", broken)
    assert "disk full" in poll_source(hook.pk).error
    hook.refresh_from_db()
    assert hook.cursor is None and Mention.objects.count() == 0
    monkeypatch.undo()
    Source.objects.filter(pk=hook.pk).update(next_poll_at=timezone.now())
    assert poll_source(hook.pk).stored == 3


def test_a_dry_run_shows_pending_items_without_consuming_them(client, hook):
    post(client, hook, fixture_bytes("webhook", "single-item.json"))
    result = test_source(hook)
    assert result.ok and [i.external_id for i in result.items] == ["90211"]
    hook.refresh_from_db()
    assert hook.cursor is None


def test_a_token_shared_by_two_sources_is_a_permanent_error(acme, hook):
    Source.objects.create(workspace=acme, name="copy", kind="webhook", config=hook.config)
    with pytest.raises(SourceError, match="share this URL token") as caught:
        WebhookConnector().fetch(hook.config, None, timezone.now())
    assert caught.value.permanent


def test_purge_removes_only_old_deliveries_already_read(client, hook):
    post(client, hook, b'{"text": "read"}', delivery="1")
    poll_source(hook.pk)
    post(client, hook, b'{"text": "unread"}', delivery="2")
    now = timezone.now()
    assert services.purge_consumed(now) == 0  # read, but not old enough
    assert services.purge_consumed(now + timedelta(days=8)) == 1
    assert [d.delivery_id for d in WebhookDelivery.objects.all()] == ["2"]
    # However short the keep asked for, the replay window stays covered.
    post(client, hook, b'{"text": "x"}', delivery="3")
    poll_source(hook.pk)
    assert services.purge_consumed(timezone.now(), keep=timedelta(0)) == 0
