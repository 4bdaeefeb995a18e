from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    """Full-text search over mentions: SQLite FTS5 or PostgreSQL text search."""

    name = "veilleur.search"
    label = "search"
    verbose_name = _("Search")
