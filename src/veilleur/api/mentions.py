"""``/api/mentions``: what the sources found, filtered and paginated.

With ``q`` the list is a full-text search (``veilleur.search``): the same filters,
newest first or by relevance, and each item carries ``highlight``, an HTML excerpt
of its text with the hits in ``<mark>`` and everything else escaped.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from veilleur.accounts.models import Role
from veilleur.api.auth import NotFound, caller_of, require_role
from veilleur.api.pagination import paginate
from veilleur.api.schemas import (
    ACCESS_ERRORS,
    WRITE_ERRORS,
    MentionFilters,
    MentionOut,
    Page,
    PageParams,
    SentimentIn,
    ValidationErrorOut,
)
from veilleur.monitoring.models import Mention
from veilleur.monitoring.queries import MentionFilter, mentions_in
from veilleur.search.services import highlights_for, search_mentions
from veilleur.sentiment.corrections import record_correction

router = Router(tags=["mentions"])


class SearchParams(Schema):
    sort: Literal["newest", "relevance"] = Field(
        "newest", description="With q: newest first (default), or best matches first."
    )


class MentionHitOut(MentionOut):
    """A mention in a list: with ``q``, also where the search matched it."""

    highlight: str | None = Field(
        None,
        description=(
            "With q: an excerpt of the text as HTML, hits wrapped in <mark>, all else"
            " escaped. Null without q."
        ),
    )

    @staticmethod
    def resolve_highlight(obj: Mention) -> str | None:
        found = getattr(obj, "search_highlight", None)
        return str(found.text) if found is not None else None


class MentionHitPage(Page):
    items: list[MentionHitOut]


def _link(request: HttpRequest, offset: int) -> str:
    # The same relative links as api.pagination, for a page the search service built.
    query = request.GET.copy()
    query["offset"] = str(offset)
    return f"{request.path}?{query.urlencode()}"


@router.get(
    "",
    response={200: MentionHitPage, **ACCESS_ERRORS},
    summary="List or search mentions",
    operation_id="listMentions",
)
def list_mentions(
    request: HttpRequest,
    filters: Query[MentionFilters],
    page: Query[PageParams],
    search: Query[SearchParams],
) -> dict[str, Any]:
    """Mentions of the workspace, newest first (with ``after_id``: oldest first by id).

    ``since`` is inclusive and ``until`` exclusive, both on the publication time;
    a datetime without a zone is read as UTC. ``q`` searches titles and texts for
    whole words in any case and with or without accents; it accepts ``"exact
    phrases"``, ``prefix*`` and ``-excluded`` words (see docs/search.md).
    """
    caller = caller_of(request)
    wanted = filters.to_filter()
    if not wanted.text or wanted.after_id is not None:
        body = paginate(request, mentions_in(caller.workspace, wanted), page)
        if wanted.text:
            _attach(body["items"], highlights_for(body["items"], wanted.text))
        return body
    found = search_mentions(
        caller.workspace, wanted.text, filters=wanted, sort=search.sort,
        limit=page.limit, offset=page.offset,
    )
    rows = mentions_in(caller.workspace, MentionFilter()).in_bulk(found.ids)
    items = [rows[pk] for pk in found.ids if pk in rows]
    _attach(items, found.highlights)
    return {
        "count": found.total,
        "limit": page.limit,
        "offset": page.offset,
        "next": _link(request, page.offset + page.limit) if found.has_more else None,
        "previous": (
            _link(request, max(0, page.offset - page.limit)) if page.offset > 0 else None
        ),
        "items": items,
    }


def _attach(mentions: list[Mention], found: dict[int, Any]) -> None:
    for mention in mentions:
        mention.search_highlight = found.get(mention.pk)  # type: ignore[attr-defined]


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


@router.post(
    "/{int:mention_id}/sentiment",
    response={200: MentionOut, **WRITE_ERRORS, 422: ValidationErrorOut},
    summary="Correct a mention's sentiment (responder or above)",
    operation_id="correctMentionSentiment",
)
def correct_sentiment(request: HttpRequest, mention_id: int, payload: SentimentIn) -> Mention:
    """Set the mention's sentiment as a person sees it and return the mention.

    The correction is stored for the workspace (its latest correction per mention
    trains the workspace's own model version, see ``/api/sentiment/heads``); the
    mention reads ``sentiment_model: "human"`` and ``corrected: true`` from then on.
    """
    caller = require_role(request, Role.RESPONDER)
    mention = mentions_in(caller.workspace, MentionFilter()).filter(pk=mention_id).first()
    if mention is None:
        raise NotFound("mention not found")
    record_correction(mention, payload.label.value, caller.user, timezone.now())
    return mention
