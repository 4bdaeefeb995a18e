"""Enrichment at ingest, corrections that teach, and the sentiment commands."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.fakes import NOW, install_fake_connector, raw_item
from veilleur.analysis.nlp import unpack
from veilleur.monitoring.models import Mention, Source
from veilleur.monitoring.pipeline import poll_source
from veilleur.sentiment import corrections, enrichment
from veilleur.sentiment.models import HeadState, SentimentCorrection, SentimentHead

NEGATIVE_EN = [
    "Still waiting for my refund, three weeks later. Unacceptable.",
    "Charged twice and nobody answers the phone. Worst service ever 😡",
    "The app crashed again and I lost my whole basket. Fed up.",
]
POSITIVE_FR = ["Merci beaucoup, livraison rapide et service client adorable ! 😍",
               "Franchement top, réparé en dix minutes, bravo à l'équipe"]


@pytest.fixture
def fake(monkeypatch):
    return install_fake_connector(monkeypatch)


@pytest.fixture
def source(acme, fake):
    return Source.objects.create(workspace=acme, name="feed", kind="fake",
                                 config={"name": "c"})


@pytest.fixture
def model_mode(settings):
    settings.SENTIMENT_MODE = "model"


def _poll(fake, source, items):
    fake.queue("c", items)
    return poll_source(source.pk, NOW)


def test_every_stored_mention_gets_language_sentiment_and_embedding(fake, source, model_mode):
    items = [raw_item(text=t) for t in NEGATIVE_EN + POSITIVE_FR]
    items.append(raw_item(text="Die Lieferung ist heute angekommen und alles war vollständig."))
    report = _poll(fake, source, items)
    assert report.stored == 6
    mentions = {m.text: m for m in Mention.objects.all()}
    for text in NEGATIVE_EN:
        assert mentions[text].lang == "en"
        assert mentions[text].sentiment == "negative"
    for text in POSITIVE_FR:
        assert mentions[text].lang == "fr"
        assert mentions[text].sentiment == "positive"
    german = mentions["Die Lieferung ist heute angekommen und alles war vollständig."]
    assert german.lang == "other"
    for mention in mentions.values():
        assert mention.sentiment_model.startswith("model-")
        assert abs(sum(mention.sentiment_scores.values()) - 1) < 1e-3
        assert mention.sentiment_score == pytest.approx(
            mention.sentiment_scores["positive"] - mention.sentiment_scores["negative"], abs=1e-3)
        assert unpack(bytes(mention.embedding)).shape == (512,)


def test_a_hint_in_the_workspace_languages_wins_and_others_are_checked(fake, source, acme):
    acme.languages = ["fr", "en"]
    acme.save()
    _poll(fake, source, [
        raw_item(external_id="a", text="Great product, love it", lang_hint="fr"),
        raw_item(external_id="b", text="Service client injoignable depuis trois jours",
                 lang_hint="de"),
    ])
    assert Mention.objects.get(external_id="a").lang == "fr"  # the source said so
    assert Mention.objects.get(external_id="b").lang == "fr"  # "de" is not monitored


def test_lexicon_mode_stores_sentiment_without_embeddings(fake, source, settings):
    settings.SENTIMENT_MODE = "lexicon"
    _poll(fake, source, [raw_item(text=NEGATIVE_EN[1])])
    mention = Mention.objects.get()
    assert mention.sentiment == "negative"
    assert mention.sentiment_model.startswith("lexicon-")
    assert mention.embedding is None


def test_a_model_failure_stores_the_mentions_anyway_and_backfill_fills_them(
    fake, source, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("model file damaged")

    monkeypatch.setattr(enrichment, "analyze_texts", broken)
    report = _poll(fake, source, [raw_item(text=t) for t in NEGATIVE_EN])
    assert report.stored == 3
    assert set(Mention.objects.values_list("sentiment", flat=True)) == {""}
    monkeypatch.undo()
    out = io.StringIO()
    call_command("sentiment", "backfill", stdout=out)
    assert "enriched 3 mentions" in out.getvalue()
    assert set(Mention.objects.values_list("sentiment", flat=True)) == {"negative"}


def _mentions(source, texts):
    return [
        Mention.objects.create(
            workspace=source.workspace, source=source, external_id=f"m{i}", text=text,
            lang="en", published_at=NOW - timedelta(minutes=i), content_hash=f"h{i}",
            sentiment="neutral", sentiment_model="model-x",
        )
        for i, text in enumerate(texts)
    ]


# A workspace where "the crossing" (a ferry brand) is always a complaint channel: the
# shipped head reads these neutral-looking posts as neutral; the team corrects them.
JARGON = [
    "Boarding at gate {n} of the crossing, ticket number {n}{n}",
    "Crossing {n}: vehicle deck closed, foot passengers only",
    "Another crossing {n} today with the cafe closed and no announcement",
    "Crossing {n} left at {n}:30, cabin {n} allocated",
]


def test_corrections_retrain_a_workspace_head_that_is_switched_on_explicitly(
    source, alice, django_capture_on_commit_callbacks, model_mode
):
    texts = [template.format(n=n) for n in range(1, 9) for template in JARGON]
    mentions = _mentions(source, texts)
    with django_capture_on_commit_callbacks(execute=True):
        for mention in mentions:
            label = "negative" if "closed" in mention.text else "neutral"
            corrections.record_correction(mention, label, alice, NOW)
    assert SentimentCorrection.objects.count() == len(mentions)
    corrected = Mention.objects.get(pk=mentions[1].pk)
    assert (corrected.sentiment, corrected.sentiment_model) == ("negative", "human")
    # Enough corrections: the immediate task backend trained a head on commit.
    head = SentimentHead.objects.get(workspace=source.workspace)
    assert head.state == HeadState.READY
    assert head.corrections == len(mentions)
    assert head.heldout_accuracy is not None and head.base_accuracy is not None
    assert head.heldout_accuracy > head.base_accuracy
    # Not used until someone switches it on.
    assert enrichment.analyzer_for(source.workspace_id).version.startswith("model-")
    corrections.activate(head, alice, NOW)
    assert enrichment.analyzer_for(source.workspace_id).version == head.model_name
    corrections.deactivate(source.workspace_id)
    assert enrichment.analyzer_for(source.workspace_id).version.startswith("model-")


def test_training_refuses_too_few_corrections(source, acme):
    for mention in _mentions(source, ["one", "two"]):
        corrections.correct(mention, "negative", None, NOW)
    with pytest.raises(corrections.NotEnoughCorrections):
        corrections.train_workspace_head(acme, NOW)
    with pytest.raises(CommandError, match="at least 20"):
        call_command("sentiment", "retrain", "--workspace", acme.slug)


def test_a_bad_label_is_refused(source):
    mention = _mentions(source, ["x"])[0]
    with pytest.raises(ValueError, match="unknown sentiment"):
        corrections.correct(mention, "angry", None, NOW)


def test_analyze_writes_one_line_per_input_in_order(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"text": "Toujours pas reçu ma commande, remboursez-moi 😡", "id": 1}\n'
        "Thanks, the fix worked perfectly!\n"
        "\n"
        "{broken\n"
        '{"text": "Train 6412 departs at 10:05 from platform 3", "lang": "en"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    call_command("analyze", str(src), "--output", str(out), stderr=io.StringIO())
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 4
    assert lines[0]["id"] == 1 and lines[0]["lang"] == "fr"
    assert lines[0]["sentiment"] == "negative"
    assert lines[1]["lang"] == "en" and lines[1]["sentiment"] == "positive"
    assert "not valid JSON" in lines[2]["error"]
    assert lines[3]["sentiment"] in {"neutral", "negative", "positive"}
    assert set(lines[3]["scores"]) == {"negative", "neutral", "positive"}


def test_analyze_gives_the_pipelines_answer(fake, source, model_mode, tmp_path):
    text = NEGATIVE_EN[0]
    _poll(fake, source, [raw_item(text=text)])
    stored = Mention.objects.get()
    src = tmp_path / "in.txt"
    src.write_text(text + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    call_command("analyze", str(src), "-o", str(out), "--mode", "model", stderr=io.StringIO())
    line = json.loads(out.read_text(encoding="utf-8"))
    assert (line["lang"], line["sentiment"], line["scores"]) == (
        stored.lang, stored.sentiment, stored.sentiment_scores)


def test_analyze_reports_a_missing_file():
    with pytest.raises(CommandError, match="cannot read"):
        call_command("analyze", "/nonexistent/file.jsonl")
