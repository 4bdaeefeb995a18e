"""``/api/stories``: near-duplicate mentions grouped across sources and authors."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from veilleur.api.auth import NotFound, caller_of
from veilleur.api.schemas import ACCESS_ERRORS, StoryOut, StoryParams
from veilleur.monitoring.models import Story
from veilleur.monitoring.queries import MentionFilter, mentions_in

router = Router(tags=["stories"])


@router.get(
    "/{int:story_id}",
    response={200: StoryOut, **ACCESS_ERRORS},
    summary="One story with its members",
    operation_id="getStory",
)
def get_story(request: HttpRequest, story_id: int, params: Query[StoryParams]) -> Story:
    """A story of the workspace and its mentions, newest first; 404 for another workspace's.

    ``copies`` counts every item of the story, exact copies included, and
    ``author_count`` their distinct authors: a copy-paste campaign has many of both
    and one story.
    """
    caller = caller_of(request)
    story = Story.objects.for_workspace(caller.workspace).filter(pk=story_id).first()
    if story is None:
        raise NotFound("story not found")
    members = mentions_in(caller.workspace, MentionFilter()).filter(story=story)
    story.member_list = list(members[: params.limit])  # type: ignore[attr-defined]
    return story
