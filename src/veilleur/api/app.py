"""The API object: authentication, error shapes, and the routers of each domain thing."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError

from veilleur.api import incidents, mentions, sentiment, sources, stories, watches
from veilleur.api.auth import AUTH, ApiError

DESCRIPTION = """\
Read what Veilleur monitors and manage its sources.

**Authentication.** Send `Authorization: Bearer <token>` with a workspace API token
(`veilleur tokens create --workspace SLUG --name NAME`); the token's workspace is the
scope of every call. A logged-in browser session works too, with `?workspace=<slug>`
naming a workspace you belong to and, for POST, the `X-CSRFToken` header.

**Errors** are JSON: `{"detail": "..."}`; 401 without valid credentials, 403 when the
role is too low, 404 for anything outside the workspace, 422 for invalid input.

**Lists** are pages: `limit` (1-200, default 50) and `offset`; the answer carries
`count`, `next` and `previous`.
"""

api = NinjaAPI(
    title="Veilleur API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=AUTH,
)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    errors = getattr(exc, "errors", None)
    body = {"detail": errors if errors is not None else exc.detail}
    response = api.create_response(request, body, status=exc.status)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="veilleur"'
    return response


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request,
        {
            "detail": "authentication required: send 'Authorization: Bearer <token>', "
            "or log in and pass ?workspace=<slug>"
        },
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="veilleur"'
    return response


api.add_router("/incidents", incidents.router)
api.add_router("/mentions", mentions.router)
api.add_router("/sentiment", sentiment.router)
api.add_router("/signals", incidents.signals_router)
api.add_router("/sources", sources.router)
api.add_router("/stories", stories.router)
api.add_router("/watches", watches.router)
