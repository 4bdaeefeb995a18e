"""The search index's database objects, for SQLite and PostgreSQL.

SQLite: an FTS5 table with *external content* (``content='monitoring_mention'``):
it stores only the inverted index, reads titles and texts from the mention table
when asked to, and can be rebuilt from it in one statement. Triggers on the mention
table keep it in sync on every write path (the pipeline's ``bulk_create``, the admin,
deletes and cascades). They name only ``id``, ``title``, ``text`` and
``workspace_id``, so columns added to mentions later leave them valid. A contentless
table would be smaller by nothing (external content stores no copy either) and could
not be rebuilt by SQLite itself.

Django rebuilds a SQLite table to add most columns (create, copy, drop, rename):
the drop takes the triggers with it. :func:`ensure` re-creates whatever is missing
and runs after every ``migrate`` (see ``apps.py``); ids survive the copy, so the
index itself stays valid.

PostgreSQL: one expression GIN index over French *and* English ``tsvector`` s of
title + text, with ``unaccent`` in both configurations when the extension can be
installed. No triggers: the index is maintained by PostgreSQL.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

log = logging.getLogger(__name__)

FTS_TABLE = "search_mention_fts"
# unicode61 with diacritics removed (also from letters with several marks): dégoûté
# and degoute are one token. The prefix index serves "abc*" in one lookup; longer
# prefixes scan the (sorted) term list, which is cheap because they match few terms.
SQLITE_TABLE = """
CREATE VIRTUAL TABLE IF NOT EXISTS search_mention_fts USING fts5(
    title, text, workspace_id,
    content='monitoring_mention', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', prefix='3'
)"""
SQLITE_TRIGGERS = {
    "search_mention_fts_insert": """
CREATE TRIGGER IF NOT EXISTS search_mention_fts_insert AFTER INSERT ON monitoring_mention BEGIN
    INSERT INTO search_mention_fts(rowid, title, text, workspace_id)
    VALUES (new.id, new.title, new.text, new.workspace_id);
END""",
    # An external-content index forgets a row by being told its old values.
    "search_mention_fts_delete": """
CREATE TRIGGER IF NOT EXISTS search_mention_fts_delete AFTER DELETE ON monitoring_mention BEGIN
    INSERT INTO search_mention_fts(search_mention_fts, rowid, title, text, workspace_id)
    VALUES ('delete', old.id, old.title, old.text, old.workspace_id);
END""",
    # Only when an indexed column is written: status changes cost nothing.
    "search_mention_fts_update": """
CREATE TRIGGER IF NOT EXISTS search_mention_fts_update
AFTER UPDATE OF id, title, text, workspace_id ON monitoring_mention BEGIN
    INSERT INTO search_mention_fts(search_mention_fts, rowid, title, text, workspace_id)
    VALUES ('delete', old.id, old.title, old.text, old.workspace_id);
    INSERT INTO search_mention_fts(rowid, title, text, workspace_id)
    VALUES (new.id, new.title, new.text, new.workspace_id);
END""",
}
# FTS5 commands are INSERTs of the command's name into the table's own column.
REBUILD = "INSERT INTO search_mention_fts(search_mention_fts) VALUES ('rebuild')"
OPTIMIZE = "INSERT INTO search_mention_fts(search_mention_fts) VALUES ('optimize')"
DELETE_ALL = "INSERT INTO search_mention_fts(search_mention_fts) VALUES ('delete-all')"
# rank = 1: compare the index with the mention table, not only with itself.
INTEGRITY_CHECK = (
    "INSERT INTO search_mention_fts(search_mention_fts, rank) VALUES ('integrity-check', 1)"
)
REFILL = (
    "INSERT INTO search_mention_fts(rowid, title, text, workspace_id)"
    " SELECT id, title, text, workspace_id FROM monitoring_mention WHERE id > %s AND id <= %s"
)

PG_INDEX = "search_mention_document"
PG_CONFIGS = {"veilleur_fr": ("french", "french_stem"), "veilleur_en": ("english", "english_stem")}
# Beyond this many characters a mention is not searchable on PostgreSQL: a tsvector
# is limited to 1 MB and an oversized one would make the mention's INSERT fail.
PG_MAX_CHARS = 100_000


def pg_vector(table: str = "") -> str:
    """The indexed expression; queries repeat it exactly so that the index serves them.

    ``table`` qualifies the columns, for a query that joins other tables.
    """
    prefix = f'"{table}".' if table else ""
    doc = f"left({prefix}title || ' ' || {prefix}text, {PG_MAX_CHARS})"
    return (
        f"(to_tsvector('veilleur_fr'::regconfig, {doc}) || "
        f"to_tsvector('veilleur_en'::regconfig, {doc}))"
    )


def is_sqlite(connection: BaseDatabaseWrapper) -> bool:
    return connection.vendor == "sqlite"


def is_postgres(connection: BaseDatabaseWrapper) -> bool:
    return connection.vendor == "postgresql"


def install(connection: BaseDatabaseWrapper) -> None:
    """Create the index for this database (idempotent); other vendors get none."""
    if is_sqlite(connection):
        ensure(connection)
    elif is_postgres(connection):
        _install_postgres(connection)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    """Drop what :func:`install` created (the ``unaccent`` extension stays)."""
    with connection.cursor() as cursor:
        if is_sqlite(connection):
            for name in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute("DROP TABLE IF EXISTS search_mention_fts")
        elif is_postgres(connection):
            cursor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
            for name in PG_CONFIGS:
                cursor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name}")


def ensure(connection: BaseDatabaseWrapper) -> bool:
    """SQLite: create the FTS table and triggers if missing; True if the table was new.

    A new table over existing mentions is filled from them at once.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [FTS_TABLE])
        created = cursor.fetchone() is None
        cursor.execute(SQLITE_TABLE)
        for sql in SQLITE_TRIGGERS.values():
            cursor.execute(sql)
        if created:
            rebuild(connection)
    return created


def missing_triggers(connection: BaseDatabaseWrapper) -> list[str]:
    """SQLite: the sync triggers that do not exist (empty when all is well)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in SQLITE_TRIGGERS if name not in present]


def rebuild(connection: BaseDatabaseWrapper) -> None:
    """Rebuild the whole index from the mention table."""
    with connection.cursor() as cursor:
        if is_sqlite(connection):
            cursor.execute(REBUILD)
            cursor.execute(OPTIMIZE)
        elif is_postgres(connection):
            cursor.execute(f"REINDEX INDEX {PG_INDEX}")


def has_unaccent(connection: BaseDatabaseWrapper) -> bool:
    """PostgreSQL: whether the search configurations fold accents."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_ts_config_map m JOIN pg_ts_config c ON c.oid = m.mapcfg"
            " JOIN pg_ts_dict d ON d.oid = m.mapdict"
            " WHERE c.cfgname = 'veilleur_fr' AND d.dictname = 'unaccent'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _install_postgres(connection: BaseDatabaseWrapper) -> None:
    unaccent = True
    try:
        # A savepoint: a refused CREATE EXTENSION must not abort the migration.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    except DatabaseError as exc:
        unaccent = False
        log.warning(
            "search: the unaccent extension is not available (%s); accents will not be"
            " folded on PostgreSQL. Install postgresql-contrib and run"
            " `veilleur search reindex` to enable it.",
            exc,
        )
    with connection.cursor() as cursor:
        for name, (base, stem) in PG_CONFIGS.items():
            cursor.execute(
                "SELECT 1 FROM pg_ts_config WHERE cfgname = %s"
                " AND cfgnamespace = current_schema()::regnamespace",
                [name],
            )
            if cursor.fetchone() is None:
                cursor.execute(
                    f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = pg_catalog.{base})"
                )
            if unaccent:
                # The documented recipe: unaccent first, then the language's stemmer.
                cursor.execute(
                    f"ALTER TEXT SEARCH CONFIGURATION {name}"
                    f" ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {stem}"
                )
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON monitoring_mention USING gin ({pg_vector()})"
        )
