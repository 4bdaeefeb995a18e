"""``/api/mentions``: what the sources found, filtered and paginated."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from veilleur.api.auth import NotFound, caller_of
from veilleur.api.pagination import paginate
from veilleur.api.schemas import (
    ACCESS_ERRORS,
    MentionFilters,
    MentionOut,
    MentionPage,
    PageParams,
)
from veilleur.monitoring.models import Mention
from veilleur.monitoring.queries import MentionFilter, mentions_in

router = Router(tags=["mentions"])


@router.get(
    "",
    response={200: MentionPage, **ACCESS_ERRORS},
    summary="List mentions",
    operation_id="listMentions",
)
def list_mentions(
    request: HttpRequest, filters: Query[MentionFilters], page: Query[PageParams]
) -> dict[str, Any]:
    """Mentions of the workspace, newest first (with ``after_id``: oldest first by id).

    ``since`` is inclusive and ``until`` exclusive, both on the publication time;
    a datetime without a zone is read as UTC.
    """
    caller = caller_of(request)
    return paginate(request, mentions_in(caller.workspace, filters.to_filter()), page)


@router.get(
    "/{int:mention_id}",
    response={200: MentionOut, **ACCESS_ERRORS},
    summary="One mention",
    operation_id="getMention",
)
def get_mention(request: HttpRequest, mention_id: int) -> Mention:
    """One mention of the workspace; 404 for an id of another workspace."""
    caller = caller_of(request)
    mention = mentions_in(caller.workspace, MentionFilter()).filter(pk=mention_id).first()
    if mention is None:
        raise NotFound("mention not found")
    return mention
