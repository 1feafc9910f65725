"""Every submission rewrites the percentile of every team of its cycle (one team
more or less moves each rank). Room left in each page lets PostgreSQL write those
versions beside the old ones (heap-only updates: no index entries, and the old
versions are pruned on the next visit of the page, vacuum or not), so the table
does not grow with each submission. Other databases have no such setting."""

from django.db import migrations

TABLE = "benchmarks_teamrank"


def set_fillfactor(percent: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {TABLE} SET (fillfactor = {percent})")

    return apply


class Migration(migrations.Migration):
    dependencies = [("benchmarks", "0004_rollup_incremental")]

    operations = [
        migrations.RunPython(set_fillfactor(50), set_fillfactor(100), elidable=False)
    ]
