"""Dirty-hour marks become append-only (no unique key): concurrent ingest batches no longer wait
on each other's row locks, and a refresh can only take marks of committed batches."""

from django.db import migrations


def forwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('metrics_rollup_dirty') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute("ALTER TABLE metrics_rollup_dirty DROP CONSTRAINT IF EXISTS metrics_rollup_dirty_pkey")


def backwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('metrics_rollup_dirty') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute(
                "DELETE FROM metrics_rollup_dirty a USING metrics_rollup_dirty b "
                "WHERE a.ctid < b.ctid AND a.series_id = b.series_id AND a.hour = b.hour"
            )
            cursor.execute("ALTER TABLE metrics_rollup_dirty ADD PRIMARY KEY (series_id, hour)")


class Migration(migrations.Migration):
    dependencies = [("metrics", "0003_rollup1h_rollup1m_sample")]

    operations = [migrations.RunPython(forwards, backwards)]
