"""The REST API (django-ninja), mounted at /api/; OpenAPI at /api/openapi.json."""

from veilleur.api.app import api

__all__ = ["api"]
