"""Samples and rollups: native partitions on plain PostgreSQL, a hypertable with TimescaleDB.

TimescaleDB is used when `timescaledb` is in pg_available_extensions. Continuous aggregates are
created WITH NO DATA (allowed in a transaction) and fill through their refresh policies.
"""

from django.conf import settings
from django.db import migrations

from metrics import storage


def create_storage(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        storage.schema_create(
            cursor,
            raw_days=settings.HIVEOPS_RETENTION_RAW_DAYS,
            rollup_days=settings.HIVEOPS_RETENTION_ROLLUP_DAYS,
            use_timescale=storage.timescale_available(cursor),
        )


def drop_storage(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('metrics_rollup_dirty') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute(
                "DROP TABLE metrics_rollup_dirty, metrics_rollup_1h, metrics_rollup_1m, metrics_sample CASCADE"
            )
        else:
            cursor.execute("DROP MATERIALIZED VIEW metrics_rollup_1h, metrics_rollup_1m CASCADE")
            cursor.execute("DROP TABLE metrics_sample CASCADE")


class Migration(migrations.Migration):
    dependencies = [("metrics", "0001_initial")]

    operations = [migrations.RunPython(create_storage, drop_storage)]
