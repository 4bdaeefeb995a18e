from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

INDEX_MIGRATION = ("search", "0001_mention_index")


class SearchConfig(AppConfig):
    """Full-text search over mentions: SQLite FTS5 or PostgreSQL text search."""

    name = "veilleur.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        post_migrate.connect(restore_sqlite_triggers, sender=self)


def restore_sqlite_triggers(using: str = "default", **kwargs: object) -> None:
    """After ``migrate``: put back the sync triggers a SQLite table rebuild dropped.

    Django adds most columns to a SQLite table by copying it into a new one, and
    dropping a table drops its triggers; without this, mentions stored after such a
    migration would silently be missing from search.
    """
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from veilleur.search import schema

    connection = connections[using]
    if not schema.is_sqlite(connection):
        return
    recorder = MigrationRecorder(connection)
    if not recorder.has_table() or INDEX_MIGRATION not in recorder.applied_migrations():
        return  # not installed yet, or migrated back to before the index
    schema.ensure(connection)
