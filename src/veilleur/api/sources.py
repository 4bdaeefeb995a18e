"""``/api/sources``: where mentions come from; managers create, disable and enable them."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja import Query, Router, Status

from veilleur.accounts.models import Role
from veilleur.api.auth import ApiError, NotFound, caller_of, require_role
from veilleur.api.pagination import paginate
from veilleur.api.schemas import (
    ACCESS_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    PageParams,
    SourceIn,
    SourceOut,
    SourcePage,
    ValidationErrorOut,
)
from veilleur.connectors.base import ConfigInvalid
from veilleur.connectors.registry import KindNotAllowed, UnknownKind
from veilleur.monitoring.models import Source, Watch
from veilleur.monitoring.queries import sources_in
from veilleur.monitoring.sources import create_source, set_enabled

router = Router(tags=["sources"])


class InvalidField(ApiError):
    """A 422 shaped like ninja's own validation errors, for checks made by services."""

    status = 422

    def __init__(self, field: str, message: str, kind: str) -> None:
        super().__init__(message)
        self.errors = [{"loc": ["body", "payload", field], "msg": message, "type": kind}]


def _source_or_404(request: HttpRequest, source_id: int) -> Source:
    source = sources_in(caller_of(request).workspace).filter(pk=source_id).first()
    if source is None:
        raise NotFound("source not found")
    return source


@router.get(
    "",
    response={200: SourcePage, **ACCESS_ERRORS},
    summary="List sources",
    operation_id="listSources",
)
def list_sources(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Sources of the workspace by name, with health and mention counts; secrets masked."""
    return paginate(request, sources_in(caller_of(request).workspace), page)


@router.get(
    "/{int:source_id}",
    response={200: SourceOut, **ACCESS_ERRORS},
    summary="One source",
    operation_id="getSource",
)
def get_source(request: HttpRequest, source_id: int) -> Source:
    """One source of the workspace; 404 for an id of another workspace."""
    return _source_or_404(request, source_id)


@router.post(
    "",
    response={201: SourceOut, **WRITE_ERRORS, 409: ErrorOut, 422: ValidationErrorOut},
    summary="Create a source (manager or owner)",
    operation_id="createSource",
)
def create(request: HttpRequest, payload: SourceIn) -> Status[Source]:
    """Create a source; the connector validates ``config`` first (422 with its reason)."""
    caller = require_role(request, Role.MANAGER)
    workspace = caller.workspace
    watch = None
    if payload.watch is not None:
        watch = Watch.objects.for_workspace(workspace).filter(pk=payload.watch).first()
        if watch is None:
            raise InvalidField("watch", "no such watch in this workspace", "unknown_watch")
    if Source.objects.for_workspace(workspace).filter(name=payload.name).exists():
        raise ApiError(f"a source named {payload.name!r} already exists", status=409)
    try:
        with transaction.atomic():
            source = create_source(
                workspace, payload.kind, payload.name, payload.config,
                watch=watch, poll_interval=payload.poll_interval,
            )
    except UnknownKind as exc:
        raise InvalidField("kind", str(exc), "unknown_kind") from None
    except KindNotAllowed as exc:
        raise InvalidField("kind", str(exc), "kind_not_allowed") from None
    except ConfigInvalid as exc:
        raise InvalidField("config", f"invalid configuration: {exc}", "config_invalid") from None
    except IntegrityError:
        # Lost a race with another request creating the same name.
        raise ApiError(f"a source named {payload.name!r} already exists", status=409) from None
    return Status(201, source)


def _switch(request: HttpRequest, source_id: int, enabled: bool) -> Source:
    caller = require_role(request, Role.MANAGER)
    source = _source_or_404(request, source_id)
    if not set_enabled(source, enabled, actor=caller.actor):
        return source  # already in the wanted state: the call is idempotent
    return _source_or_404(request, source_id)


@router.post(
    "/{int:source_id}/disable",
    response={200: SourceOut, **WRITE_ERRORS},
    summary="Disable a source (manager or owner)",
    operation_id="disableSource",
)
def disable(request: HttpRequest, source_id: int) -> Source:
    """Stop polling a source until it is enabled again; idempotent."""
    return _switch(request, source_id, enabled=False)


@router.post(
    "/{int:source_id}/enable",
    response={200: SourceOut, **WRITE_ERRORS},
    summary="Enable a source (manager or owner)",
    operation_id="enableSource",
)
def enable(request: HttpRequest, source_id: int) -> Source:
    """Re-enable a disabled source: back to ok, polled at once; idempotent."""
    return _switch(request, source_id, enabled=True)
