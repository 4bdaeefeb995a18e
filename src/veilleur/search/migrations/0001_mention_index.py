"""The full-text index over mentions: FTS5 on SQLite, a GIN index on PostgreSQL.

The objects are described in ``veilleur.search.schema``; creating them is
idempotent, so this migration can also repair an index. Other databases get none
(search falls back to substring matching there).
"""

from django.db import migrations


def create_index(apps, schema_editor):
    from veilleur.search import schema

    schema.install(schema_editor.connection)


def drop_index(apps, schema_editor):
    from veilleur.search import schema

    schema.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
