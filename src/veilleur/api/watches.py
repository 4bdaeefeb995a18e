"""``/api/watches``: the subjects the workspace monitors."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from veilleur.api.auth import NotFound, caller_of
from veilleur.api.pagination import paginate
from veilleur.api.schemas import ACCESS_ERRORS, PageParams, WatchOut, WatchPage
from veilleur.monitoring.models import Watch
from veilleur.monitoring.queries import watches_in

router = Router(tags=["watches"])


@router.get(
    "",
    response={200: WatchPage, **ACCESS_ERRORS},
    summary="List watches",
    operation_id="listWatches",
)
def list_watches(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Watches of the workspace by name, with how many mentions each matched."""
    return paginate(request, watches_in(caller_of(request).workspace), page)


@router.get(
    "/{int:watch_id}",
    response={200: WatchOut, **ACCESS_ERRORS},
    summary="One watch",
    operation_id="getWatch",
)
def get_watch(request: HttpRequest, watch_id: int) -> Watch:
    """One watch of the workspace; 404 for an id of another workspace."""
    watch = watches_in(caller_of(request).workspace).filter(pk=watch_id).first()
    if watch is None:
        raise NotFound("watch not found")
    return watch
