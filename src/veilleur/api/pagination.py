"""Limit/offset pages with ``count``, ``next`` and ``previous``: one scheme for every list."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from veilleur.api.schemas import PageParams


def _link(request: HttpRequest, offset: int) -> str:
    # A relative link (path and query) stays right behind proxies that rewrite the host.
    query = request.GET.copy()
    query["offset"] = str(offset)
    return f"{request.path}?{query.urlencode()}"


def paginate(request: HttpRequest, queryset: QuerySet[Any], page: PageParams) -> dict[str, Any]:
    """One page of ``queryset`` in the envelope described by ``schemas.Page``."""
    count = queryset.count()
    items = list(queryset[page.offset : page.offset + page.limit])
    has_next = page.offset + len(items) < count
    return {
        "count": count,
        "limit": page.limit,
        "offset": page.offset,
        "next": _link(request, page.offset + page.limit) if has_next else None,
        "previous": (
            _link(request, max(0, page.offset - page.limit)) if page.offset > 0 else None
        ),
        "items": items,
    }
