"""``/api/sentiment``: the workspace's own sentiment model versions ("heads").

People correct mentions (``POST /api/mentions/{id}/sentiment``); once enough mentions
are corrected, a manager trains a version on them, compares its cross-validated
figures with the shipped model's on the same mentions, and switches it on or off.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from veilleur.accounts.models import Role
from veilleur.api.auth import ApiError, NotFound, caller_of, require_role
from veilleur.api.schemas import ACCESS_ERRORS, WRITE_ERRORS, ErrorOut
from veilleur.sentiment.corrections import MIN_CORRECTIONS, activate, deactivate
from veilleur.sentiment.models import HeadState, SentimentHead
from veilleur.sentiment.overview import corrected_count, heads_of
from veilleur.sentiment.tasks import train_workspace_head_task

router = Router(tags=["sentiment"])


class HeadOut(Schema):
    """One version of the workspace's model and how it did on the workspace's corrections."""

    version: int
    name: str = Field(description='The name mentions scored by it carry in sentiment_model.')
    state: HeadState = Field(
        description="training, ready (to switch on), active, retired or failed."
    )
    corrections: int = Field(description="Corrected mentions it was trained on.")
    created_at: datetime
    trained_at: datetime | None
    accuracy: float | None = Field(
        description="Cross-validated accuracy on the corrections (0 to 1)."
    )
    macro_f1: float | None = Field(description="Cross-validated macro-F1 on the corrections.")
    shipped_accuracy: float | None = Field(
        description="The shipped model's accuracy on the same corrections."
    )
    shipped_macro_f1: float | None = Field(
        description="The shipped model's macro-F1 on the same corrections."
    )
    activated_at: datetime | None
    error: str = Field(description="Why training failed; empty otherwise.")

    @staticmethod
    def resolve_name(obj: SentimentHead) -> str:
        return obj.model_name

    @staticmethod
    def resolve_accuracy(obj: SentimentHead) -> float | None:
        return obj.heldout_accuracy

    @staticmethod
    def resolve_macro_f1(obj: SentimentHead) -> float | None:
        return obj.heldout_macro_f1

    @staticmethod
    def resolve_shipped_accuracy(obj: SentimentHead) -> float | None:
        return obj.base_accuracy

    @staticmethod
    def resolve_shipped_macro_f1(obj: SentimentHead) -> float | None:
        return obj.base_macro_f1


class HeadsOut(Schema):
    corrections: int = Field(description="Corrected mentions (each mention counts once).")
    min_corrections: int = Field(description="Corrected mentions needed to train a version.")
    active_version: int | None = Field(
        description="The version scoring new mentions, or null for the shipped model."
    )
    heads: list[HeadOut] = Field(description="Every version, newest first.")


class TrainingQueuedOut(Schema):
    detail: str
    corrections: int


def _status(request: HttpRequest) -> dict[str, object]:
    workspace = caller_of(request).workspace
    heads = list(heads_of(workspace))
    active = next((h.version for h in heads if h.state == HeadState.ACTIVE), None)
    return {"corrections": corrected_count(workspace), "min_corrections": MIN_CORRECTIONS,
            "active_version": active, "heads": heads}


@router.get(
    "/heads",
    response={200: HeadsOut, **ACCESS_ERRORS},
    summary="The workspace's sentiment model versions",
    operation_id="listSentimentHeads",
)
def list_heads(request: HttpRequest) -> dict[str, object]:
    """Corrections so far, the version in use and every version with its figures."""
    return _status(request)


@router.post(
    "/heads/train",
    response={202: TrainingQueuedOut, **WRITE_ERRORS, 409: ErrorOut},
    summary="Train a new version from the corrections (manager or owner)",
    operation_id="trainSentimentHead",
)
def train(request: HttpRequest) -> Status[dict[str, object]]:
    """Queue the training of the next version; 409 while too few mentions are corrected.

    The new version appears in ``GET /api/sentiment/heads`` as ``training``, then
    ``ready`` (or ``failed``). It is never switched on by itself.
    """
    caller = require_role(request, Role.MANAGER)
    corrected = corrected_count(caller.workspace)
    if corrected < MIN_CORRECTIONS:
        raise ApiError(
            f"{corrected} corrected mentions; at least {MIN_CORRECTIONS} are needed to train",
            status=409,
        )
    train_workspace_head_task.enqueue(caller.workspace.pk, force=True)
    return Status(202, {"detail": "training queued", "corrections": corrected})


@router.post(
    "/heads/{int:version}/activate",
    response={200: HeadOut, **WRITE_ERRORS, 409: ErrorOut},
    summary="Switch a version on for new mentions (manager or owner)",
    operation_id="activateSentimentHead",
)
def activate_head(request: HttpRequest, version: int) -> SentimentHead:
    """Switch on a ``ready`` or ``retired`` version (409 otherwise); the previous one retires."""
    caller = require_role(request, Role.MANAGER)
    head = heads_of(caller.workspace).filter(version=version).first()
    if head is None:
        raise NotFound("sentiment model version not found")
    try:
        activate(head, caller.user, timezone.now())
    except ValueError:
        raise ApiError(
            f"version {version} is {head.state}; only a ready or retired version can be "
            "switched on",
            status=409,
        ) from None
    return head


@router.post(
    "/heads/deactivate",
    response={200: HeadsOut, **WRITE_ERRORS},
    summary="Go back to the shipped model (manager or owner)",
    operation_id="deactivateSentimentHead",
)
def deactivate_heads(request: HttpRequest) -> dict[str, object]:
    """Switch the active version off (it retires); idempotent. Returns the new status."""
    caller = require_role(request, Role.MANAGER)
    deactivate(caller.workspace.pk)
    return _status(request)
