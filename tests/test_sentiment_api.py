"""Sentiment in the API: mention fields and filters, corrections, the workspace's model versions."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client

from tests.fakes import NOW, make_mention
from tests.test_sentiment_views import correct_enough
from veilleur.accounts.models import ApiToken, Role
from veilleur.monitoring.models import Source
from veilleur.sentiment.corrections import MIN_CORRECTIONS, record_correction
from veilleur.sentiment.models import HeadState, SentimentCorrection, SentimentHead

pytestmark = pytest.mark.django_db

SCORES = {"negative": 0.12, "neutral": 0.3, "positive": 0.58}


def token(workspace, role: Role) -> str:
    return ApiToken.issue(workspace, f"{workspace.slug}-{role}", role=role)[1]


@pytest.fixture
def world(acme, globex, alice, bob, charlie):
    feed = Source.objects.create(workspace=acme, name="Feed", kind="rss")
    happy = make_mention(feed, "Love the new box", lang="en", sentiment="positive",
                         sentiment_scores=SCORES, sentiment_score=0.46,
                         sentiment_model="model-2026.1", published_at=NOW - timedelta(hours=3))
    angry = make_mention(feed, "Toujours pas reçu", lang="fr", sentiment="negative",
                         sentiment_scores={"negative": 0.9, "neutral": 0.08, "positive": 0.02},
                         sentiment_score=-0.88, sentiment_model="model-2026.1",
                         published_at=NOW - timedelta(hours=2))
    foreign = make_mention(feed, "Das ist gut", lang="other", sentiment="neutral",
                           published_at=NOW - timedelta(hours=1))
    g_source = Source.objects.create(workspace=globex, name="Globex feed", kind="rss")
    g_mention = make_mention(g_source, "Globex is great", lang="other", sentiment="negative")
    return SimpleNamespace(
        acme=acme, globex=globex, feed=feed, happy=happy, angry=angry, foreign=foreign,
        g_mention=g_mention,
        viewer=token(acme, Role.VIEWER), responder=token(acme, Role.RESPONDER),
        manager=token(acme, Role.MANAGER), globex_owner=token(globex, Role.OWNER),
    )


def api(raw_token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw_token}"})


def post_json(client: Client, path: str, payload: object = None):
    if payload is None:
        return client.post(path)
    return client.post(path, payload, content_type="application/json")


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


# ---- mention fields and filters ------------------------------------------------------------


def test_mentions_carry_their_sentiment_details(world):
    item = api(world.viewer).get(f"/api/mentions/{world.happy.pk}").json()
    assert item["lang"] == "en" and item["sentiment"] == "positive"
    assert item["sentiment_scores"] == SCORES and item["sentiment_score"] == 0.46
    assert item["sentiment_model"] == "model-2026.1" and item["corrected"] is False


@pytest.mark.parametrize(("query", "expected"), [
    ("sentiment=negative", ["angry"]),
    ("sentiment=positive", ["happy"]),
    ("lang=other", ["foreign"]),
    ("lang=FR", ["angry"]),
    ("lang=other&sentiment=negative", []),
])
def test_mentions_filter_by_sentiment_and_language(world, query, expected):
    response = api(world.viewer).get(f"/api/mentions?{query}")
    assert response.status_code == 200
    assert ids(response) == [getattr(world, name).pk for name in expected]


def test_an_unknown_sentiment_filter_is_422(world):
    assert api(world.viewer).get("/api/mentions?sentiment=angry").status_code == 422


# ---- corrections ---------------------------------------------------------------------------


def test_a_responder_token_corrects_a_mention(world):
    response = post_json(api(world.responder), f"/api/mentions/{world.happy.pk}/sentiment",
                         {"label": "negative"})
    assert response.status_code == 200
    item = response.json()
    assert item["id"] == world.happy.pk and item["text"] == "Love the new box"
    assert item["sentiment"] == "negative" and item["sentiment_model"] == "human"
    assert item["corrected"] is True and item["sentiment_score"] == -1.0
    assert item["sentiment_scores"] == {"negative": 1.0, "neutral": 0.0, "positive": 0.0}
    correction = SentimentCorrection.objects.get()
    assert correction.mention_id == world.happy.pk and correction.user is None
    assert (correction.label, correction.previous_label, correction.previous_model) == (
        "negative", "positive", "model-2026.1")
    # Read back, and found by the filters.
    assert api(world.viewer).get(f"/api/mentions/{world.happy.pk}").json()["corrected"] is True
    assert world.happy.pk in ids(api(world.viewer).get("/api/mentions?sentiment=negative"))


def test_a_session_correction_records_the_user(world, client_of, bob):
    response = post_json(client_of(bob), f"/api/mentions/{world.angry.pk}/sentiment?workspace=acme",
                         {"label": "neutral"})
    assert response.status_code == 200 and response.json()["sentiment"] == "neutral"
    assert SentimentCorrection.objects.get().user == bob


def test_a_viewer_cannot_correct(world):
    response = post_json(api(world.viewer), f"/api/mentions/{world.happy.pk}/sentiment",
                         {"label": "negative"})
    assert response.status_code == 403
    assert response.json() == {"detail": "this action needs the responder role or higher"}
    assert not SentimentCorrection.objects.exists()


@pytest.mark.parametrize("how", ["token", "session"])
def test_an_outsider_cannot_correct_an_acme_mention(world, client_of, charlie, how):
    if how == "token":
        client, suffix = api(world.globex_owner), ""
    else:
        client, suffix = client_of(charlie), "?workspace=globex"
    response = post_json(client, f"/api/mentions/{world.happy.pk}/sentiment{suffix}",
                         {"label": "negative"})
    assert response.status_code == 404 and response.json() == {"detail": "mention not found"}
    assert not SentimentCorrection.objects.exists()
    # Naming Acme with his session gets him nowhere either.
    if how == "session":
        response = post_json(client, f"/api/mentions/{world.happy.pk}/sentiment?workspace=acme",
                             {"label": "negative"})
        assert response.status_code == 404
    # His own mention he may correct.
    own = post_json(client, f"/api/mentions/{world.g_mention.pk}/sentiment{suffix}",
                    {"label": "positive"})
    assert own.status_code == 200 and own.json()["corrected"] is True


@pytest.mark.parametrize("payload", [{"label": "angry"}, {"label": "NEGATIVE"}, {"label": 1},
                                     {}, {"sentiment": "negative"}])
def test_a_bad_label_is_422_with_a_clear_message(world, payload):
    response = post_json(api(world.responder), f"/api/mentions/{world.happy.pk}/sentiment",
                         payload)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert errors[0]["loc"][-1] == "label"
    if "label" in payload:
        assert "'negative', 'neutral' or 'positive'" in errors[0]["msg"]
    assert not SentimentCorrection.objects.exists()


def test_an_unknown_mention_is_404(world):
    response = post_json(api(world.responder), "/api/mentions/999999/sentiment",
                         {"label": "negative"})
    assert response.status_code == 404


def test_corrections_need_authentication(world):
    response = post_json(Client(), f"/api/mentions/{world.happy.pk}/sentiment",
                         {"label": "negative"})
    assert response.status_code == 401


# ---- model versions ------------------------------------------------------------------------


@pytest.fixture
def heads(world):
    retired = SentimentHead.objects.create(
        workspace=world.acme, version=1, state=HeadState.RETIRED, corrections=22,
        trained_at=NOW, heldout_accuracy=0.8, base_accuracy=0.7, heldout_macro_f1=0.78,
        base_macro_f1=0.66, weights=b"not for the API",
    )
    failed = SentimentHead.objects.create(
        workspace=world.acme, version=2, state=HeadState.FAILED, corrections=25,
        error="ValueError: no luck",
    )
    ready = SentimentHead.objects.create(
        workspace=world.acme, version=3, state=HeadState.READY, corrections=31, trained_at=NOW,
        heldout_accuracy=0.9, base_accuracy=0.7, heldout_macro_f1=0.85, base_macro_f1=0.65,
    )
    return retired, failed, ready


def test_anyone_in_the_workspace_reads_the_versions_and_their_figures(world, heads):
    for mention in (world.happy, world.angry):
        record_correction(mention, "neutral", None, NOW)
    record_correction(world.happy, "negative", None, NOW)  # the same mention counts once
    response = api(world.viewer).get("/api/sentiment/heads")
    assert response.status_code == 200
    body = response.json()
    assert body["corrections"] == 2 and body["min_corrections"] == MIN_CORRECTIONS
    assert body["active_version"] is None
    assert [h["version"] for h in body["heads"]] == [3, 2, 1]
    first = body["heads"][2]
    assert first == {
        "version": 1, "name": f"ws{world.acme.pk}-v1", "state": "retired", "corrections": 22,
        "created_at": first["created_at"], "trained_at": "2026-03-01T12:00:00Z",
        "accuracy": 0.8, "macro_f1": 0.78, "shipped_accuracy": 0.7, "shipped_macro_f1": 0.66,
        "activated_at": None, "error": "",
    }
    assert body["heads"][1]["state"] == "failed"
    assert body["heads"][1]["error"] == "ValueError: no luck"
    assert b"not for the API" not in response.content


def test_an_outsider_sees_only_his_own_versions(world, heads):
    body = api(world.globex_owner).get("/api/sentiment/heads").json()
    assert body == {"corrections": 0, "min_corrections": MIN_CORRECTIONS,
                    "active_version": None, "heads": []}


def test_a_manager_switches_versions_on_and_back_to_the_shipped_model(world, heads):
    client = api(world.manager)
    response = client.post("/api/sentiment/heads/3/activate")
    assert response.status_code == 200
    assert response.json()["state"] == "active" and response.json()["activated_at"]
    assert client.get("/api/sentiment/heads").json()["active_version"] == 3
    assert client.post("/api/sentiment/heads/1/activate").json()["state"] == "active"
    states = dict(SentimentHead.objects.values_list("version", "state"))
    assert states == {1: "active", 2: "failed", 3: "retired"}
    response = client.post("/api/sentiment/heads/deactivate")
    assert response.status_code == 200 and response.json()["active_version"] is None
    assert not SentimentHead.objects.filter(state=HeadState.ACTIVE).exists()
    assert client.post("/api/sentiment/heads/deactivate").status_code == 200  # idempotent


def test_a_failed_or_unknown_version_cannot_be_switched_on(world, heads):
    client = api(world.manager)
    response = client.post("/api/sentiment/heads/2/activate")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "version 2 is failed; only a ready or retired version can be switched on"
    }
    assert client.post("/api/sentiment/heads/99/activate").status_code == 404
    assert SentimentHead.objects.get(version=2).state == HeadState.FAILED


@pytest.mark.parametrize("who", ["viewer", "responder"])
def test_below_manager_versions_cannot_be_trained_or_switched(world, heads, who):
    client = api(getattr(world, who))
    for path in ("/api/sentiment/heads/3/activate", "/api/sentiment/heads/deactivate",
                 "/api/sentiment/heads/train"):
        response = client.post(path)
        assert response.status_code == 403, path
        assert response.json() == {"detail": "this action needs the manager role or higher"}
    assert SentimentHead.objects.get(version=3).state == HeadState.READY
    assert SentimentHead.objects.count() == 3


def test_an_outsider_cannot_switch_acme_versions(world, heads):
    client = api(world.globex_owner)
    assert client.post("/api/sentiment/heads/3/activate").status_code == 404
    client.post("/api/sentiment/heads/deactivate")
    assert SentimentHead.objects.get(version=3).state == HeadState.READY


def test_training_needs_enough_corrections(world):
    record_correction(world.happy, "negative", None, NOW)
    response = api(world.manager).post("/api/sentiment/heads/train")
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"1 corrected mentions; at least {MIN_CORRECTIONS} are needed to train"
    }
    assert not SentimentHead.objects.exists()


def test_a_manager_trains_a_version_then_switches_it_on(world, alice):
    correct_enough(world.feed, alice)
    client = api(world.manager)
    response = client.post("/api/sentiment/heads/train")
    assert response.status_code == 202
    assert response.json() == {"detail": "training queued", "corrections": MIN_CORRECTIONS}
    # The test task backend runs the task at once; a worker does it in production.
    body = client.get("/api/sentiment/heads").json()
    assert body["corrections"] == MIN_CORRECTIONS
    (head,) = body["heads"]
    assert head["version"] == 1 and head["state"] == "ready"
    assert head["corrections"] == MIN_CORRECTIONS
    for figure in ("accuracy", "macro_f1", "shipped_accuracy", "shipped_macro_f1"):
        assert 0.0 <= head[figure] <= 1.0
    assert client.post("/api/sentiment/heads/1/activate").json()["state"] == "active"
    assert client.get("/api/sentiment/heads").json()["active_version"] == 1
