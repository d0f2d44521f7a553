"""Dirty-hour marks on both layouts, with an index for query_range.

TimescaleDB databases made before this had no marks table: ingest now marks the (series, hour)
ranges it writes there too, so the refresh task can refresh exactly those hours in the continuous
aggregates and query_range can answer them from raw samples until then. The index serves that
per-series lookup. Aggregates and compression settings of such databases are left as they are.
"""

from django.db import migrations

from metrics import storage


def forwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(storage.DIRTY_SCHEMA)


def backwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS metrics_rollup_dirty_series_hour")


class Migration(migrations.Migration):
    dependencies = [("metrics", "0004_rollup_dirty_append_only")]

    operations = [migrations.RunPython(forwards, backwards)]
