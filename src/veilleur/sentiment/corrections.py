"""Corrections that teach: store a person's verdict, retrain, switch on when better.

A workspace head starts from the shipped model head and is pulled towards the
workspace's corrections (``fit_head(prior=...)``). Its accuracy is estimated by
cross-validation on the corrections and shown beside the shipped head's accuracy
on the same mentions before anyone switches it on.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from django.db import transaction
from django.db.models import Max

from veilleur.accounts.models import User, Workspace
from veilleur.analysis.nlp import LABELS, fit_head, pack, shipped_analyzer, unpack
from veilleur.analysis.nlp.head import label_indices
from veilleur.analysis.nlp.metrics import accuracy, macro_f1
from veilleur.analysis.nlp.sentiment import features_for
from veilleur.analysis.nlp.train import folds
from veilleur.monitoring.models import Mention
from veilleur.sentiment.models import HeadState, SentimentCorrection, SentimentHead

# Below this many corrections a workspace head would learn noise; the UI says so.
MIN_CORRECTIONS = 20
# Automatic retraining after this many new corrections since the last head.
RETRAIN_EVERY = 10
# Pull towards the corrections; the prior (shipped head) holds the rest.
WORKSPACE_L2 = 20.0


class NotEnoughCorrections(ValueError):
    pass


def correct(mention: Mention, label: str, user: User | None, now: datetime) -> SentimentCorrection:
    """Record a correction and apply it to the mention at once."""
    if label not in LABELS:
        raise ValueError(f"unknown sentiment {label!r}; expected one of {', '.join(LABELS)}")
    with transaction.atomic():
        correction = SentimentCorrection.objects.create(
            workspace_id=mention.workspace_id, mention=mention, label=label,
            previous_label=mention.sentiment, previous_model=mention.sentiment_model,
            user=user, created_at=now,
        )
        scores = {name: 1.0 if name == label else 0.0 for name in LABELS}
        Mention.objects.filter(pk=mention.pk).update(
            sentiment=label, sentiment_model="human", sentiment_scores=scores,
            sentiment_score=scores["positive"] - scores["negative"],
        )
    mention.sentiment, mention.sentiment_model = label, "human"
    mention.sentiment_scores = scores
    mention.sentiment_score = scores["positive"] - scores["negative"]
    return correction


def latest_corrections(workspace_id: int) -> list[SentimentCorrection]:
    """The latest correction of each corrected mention, oldest first."""
    latest: dict[int, SentimentCorrection] = {}
    for correction in (
        SentimentCorrection.objects.filter(workspace_id=workspace_id)
        .select_related("mention").order_by("created_at", "pk")
    ):
        latest[correction.mention_id] = correction
    return list(latest.values())


def retrain_due(workspace_id: int) -> bool:
    """Enough corrections, and enough new ones since the last head."""
    count = len(latest_corrections(workspace_id))
    if count < MIN_CORRECTIONS:
        return False
    last = SentimentHead.objects.filter(workspace_id=workspace_id).aggregate(n=Max("corrections"))
    return count - (last["n"] or 0) >= RETRAIN_EVERY


def train_workspace_head(workspace: Workspace, now: datetime) -> SentimentHead:
    """Train the next head version from the workspace's corrections (may take seconds)."""
    corrections = latest_corrections(workspace.pk)
    if len(corrections) < MIN_CORRECTIONS:
        raise NotEnoughCorrections(
            f"{len(corrections)} corrections; at least {MIN_CORRECTIONS} are needed"
        )
    version = (SentimentHead.objects.filter(workspace=workspace)
               .aggregate(v=Max("version"))["v"] or 0) + 1
    head_row = SentimentHead.objects.create(workspace=workspace, version=version, created_at=now,
                                            corrections=len(corrections))
    try:
        _fit(head_row, corrections, now)
    except Exception as exc:
        head_row.state, head_row.error = HeadState.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        head_row.save(update_fields=["state", "error"])
        raise
    return head_row


def _fit(row: SentimentHead, corrections: list[SentimentCorrection], now: datetime) -> None:
    analyzer = shipped_analyzer("model")
    prior = analyzer.sentiment.head
    mentions = [c.mention for c in corrections]
    texts = [m.text for m in mentions]
    langs = [m.lang if m.lang in ("fr", "en") else "en" for m in mentions]
    embedder = analyzer.sentiment.embedder
    assert embedder is not None
    embeddings = np.zeros((len(mentions), embedder.dim), dtype=np.float32)
    missing = []
    for i, mention in enumerate(mentions):
        stored = unpack(bytes(mention.embedding)) if mention.embedding else None
        # Lexicon-mode mentions have none; accurate-mode ones have another model's.
        if stored is not None and stored.shape == (embedder.dim,):
            embeddings[i] = stored
        else:
            missing.append(i)
    if missing:
        fresh = embedder.embed([texts[i] for i in missing])
        for row_index, i in enumerate(missing):
            embeddings[i] = fresh[row_index]
            Mention.objects.filter(pk=mentions[i].pk).update(embedding=pack(fresh[row_index]))
    x = features_for(prior.features, texts, langs, embeddings)
    truth = [c.label for c in corrections]
    y = label_indices(truth)
    # Out-of-fold predictions of heads trained like the final one, on the same folds.
    predicted = [""] * len(truth)
    counts = np.bincount(y)
    smallest_class = int(counts[counts > 0].min())
    for held_out in folds(y, k=min(5, max(2, smallest_class))):
        train = np.setdiff1d(np.arange(len(y)), held_out)
        fold_head = fit_head(x[train], y[train], features=prior.features, l2=WORKSPACE_L2,
                             prior=prior)
        for i, p in zip(held_out, fold_head.predict_proba(x[held_out]).argmax(axis=1),
                        strict=True):
            predicted[int(i)] = LABELS[int(p)]
    base_predicted = [LABELS[int(i)] for i in prior.predict_proba(x).argmax(axis=1)]
    head = fit_head(x, y, features=prior.features, l2=WORKSPACE_L2, prior=prior,
                    meta={"version": row.model_name, "corrections": len(truth)})
    row.weights = head.to_bytes()
    row.heldout_accuracy = round(accuracy(truth, predicted), 4)
    row.heldout_macro_f1 = round(macro_f1(truth, predicted, LABELS), 4)
    row.base_accuracy = round(accuracy(truth, base_predicted), 4)
    row.base_macro_f1 = round(macro_f1(truth, base_predicted, LABELS), 4)
    row.state, row.trained_at = HeadState.READY, now
    row.save()


def activate(head: SentimentHead, user: User | None, now: datetime) -> None:
    """Switch a ready head on for new mentions; the previous one retires."""
    if head.state not in (HeadState.READY, HeadState.RETIRED):
        raise ValueError(f"head {head.model_name} is {head.state}, it cannot be switched on")
    with transaction.atomic():
        SentimentHead.objects.filter(workspace_id=head.workspace_id,
                                     state=HeadState.ACTIVE).update(state=HeadState.RETIRED)
        head.state, head.activated_at, head.activated_by = HeadState.ACTIVE, now, user
        head.save(update_fields=["state", "activated_at", "activated_by"])


def deactivate(workspace_id: int) -> int:
    """Back to the shipped head; returns how many heads were switched off."""
    return SentimentHead.objects.filter(workspace_id=workspace_id,
                                        state=HeadState.ACTIVE).update(state=HeadState.RETIRED)


def record_correction(
    mention: Mention, label: str, user: User | None, now: datetime
) -> SentimentCorrection:
    """``correct``, then queue a retraining when enough new corrections piled up.

    This is what the UI and the API call.
    """
    from veilleur.sentiment.tasks import train_workspace_head_task

    correction = correct(mention, label, user, now)
    if retrain_due(mention.workspace_id):
        transaction.on_commit(lambda: train_workspace_head_task.enqueue(mention.workspace_id))
    return correction
