"""Enrich mentions: language, sentiment and embedding, with the right head.

The pipeline calls ``enrich`` on a batch's new items before it opens its
transaction. A failure here never loses a mention: the batch is stored without
sentiment and ``veilleur sentiment backfill`` (or the next enrichment pass) fills
it in later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from django.conf import settings

from veilleur.analysis.nlp import (
    DEFAULT_LANGUAGES,
    Analysis,
    Analyzer,
    LinearHead,
    SentimentModel,
    pack,
    shipped_analyzer,
)
from veilleur.monitoring.models import Mention
from veilleur.sentiment.models import HeadState, SentimentHead

log = logging.getLogger(__name__)
_workspace_analyzers: dict[tuple[int, int], Analyzer] = {}
_lock = threading.Lock()


def workspace_languages(languages: Sequence[str] | None) -> tuple[str, ...]:
    """A workspace's languages, or French and English when it lists none."""
    return tuple(languages) if languages else DEFAULT_LANGUAGES


def analyzer_for(workspace_id: int) -> Analyzer:
    """The shipped analyzer of the configured mode, or the workspace's active head."""
    mode = getattr(settings, "SENTIMENT_MODE", "model")
    if mode != "model":
        return shipped_analyzer(mode)
    active = (
        SentimentHead.objects.filter(workspace_id=workspace_id, state=HeadState.ACTIVE)
        .only("pk", "version", "workspace_id").first()
    )
    if active is None:
        return shipped_analyzer("model")
    key = (workspace_id, active.version)
    if key not in _workspace_analyzers:
        with _lock:
            if key not in _workspace_analyzers:
                blob = SentimentHead.objects.values_list("weights", flat=True).get(pk=active.pk)
                head = LinearHead.from_bytes(bytes(blob or b""))
                shared = shipped_analyzer("model").sentiment.embedder
                _workspace_analyzers[key] = Analyzer(
                    SentimentModel(head, embedder=shared, version=active.model_name)
                )
    return _workspace_analyzers[key]


def analyze_texts(
    workspace_id: int,
    languages: Sequence[str] | None,
    texts: Sequence[str],
    hints: Sequence[str] | None = None,
) -> list[Analysis]:
    return analyzer_for(workspace_id).analyze(texts, workspace_languages(languages), hints)


def apply(mention: Mention, analysis: Analysis) -> None:
    """Copy an analysis onto a mention (not saved)."""
    mention.lang = analysis.lang
    mention.sentiment = analysis.sentiment
    mention.sentiment_scores = analysis.scores
    mention.sentiment_score = round(analysis.polarity, 4)
    mention.sentiment_model = analysis.model[:64]
    if analysis.embedding is not None:
        mention.embedding = pack(analysis.embedding)


def safe_analyze(
    workspace_id: int,
    languages: Sequence[str] | None,
    texts: Sequence[str],
    hints: Sequence[str],
) -> list[Analysis] | None:
    """``analyze_texts``, or None (logged) if the models fail: storing must go on."""
    try:
        return analyze_texts(workspace_id, languages, texts, hints)
    except Exception:
        log.exception("enrichment failed for %d texts of workspace %s", len(texts), workspace_id)
        return None


ENRICHED_FIELDS = ["lang", "sentiment", "sentiment_scores", "sentiment_score",
                   "sentiment_model", "embedding"]


def backfill(workspace_id: int | None = None, batch_size: int = 256) -> int:
    """Enrich stored mentions that have no sentiment yet; returns how many."""
    done = 0
    pending = Mention.objects.filter(sentiment="").select_related("workspace").order_by("pk")
    if workspace_id is not None:
        pending = pending.filter(workspace_id=workspace_id)
    last_pk = 0
    while True:
        batch = list(pending.filter(pk__gt=last_pk)[:batch_size])
        if not batch:
            return done
        last_pk = batch[-1].pk
        by_workspace: dict[int, list[Mention]] = {}
        for mention in batch:
            by_workspace.setdefault(mention.workspace_id, []).append(mention)
        for ws_id, mentions in by_workspace.items():
            analyses = analyze_texts(
                ws_id, mentions[0].workspace.languages,
                [m.text for m in mentions], [m.lang for m in mentions],
            )
            for mention, analysis in zip(mentions, analyses, strict=True):
                apply(mention, analysis)
            Mention.objects.bulk_update(mentions, ENRICHED_FIELDS, batch_size=500)
            done += len(mentions)
