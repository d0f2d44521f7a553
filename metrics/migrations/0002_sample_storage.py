"""Samples and rollups: native partitions on plain PostgreSQL, a hypertable with TimescaleDB.

The layout is chosen from what the server can do (metrics/timescale.py `layout_choose`):
TimescaleDB when the extension is installed, preloaded and creatable, unless
HIVEOPS_STORAGE_LAYOUT=plain. migrate prints the choice and its reason, which is also kept as the
comment of metrics_sample. Continuous aggregates are created WITH NO DATA (allowed in a
transaction) and filled by the touched-hours refresh and their policies.
"""

from django.conf import settings
from django.db import migrations

from metrics import storage, timescale


def create_storage(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        timescale.layout_create(
            cursor,
            forced=settings.HIVEOPS_STORAGE_LAYOUT,
            raw_days=settings.HIVEOPS_RETENTION_RAW_DAYS,
            rollup_days=settings.HIVEOPS_RETENTION_ROLLUP_DAYS,
        )


def drop_storage(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if storage.layout_detect(cursor) == storage.PLAIN:
            cursor.execute(
                "DROP TABLE metrics_rollup_dirty, metrics_rollup_1h, metrics_rollup_1m, metrics_sample CASCADE"
            )
        else:
            cursor.execute("DROP TABLE IF EXISTS metrics_rollup_dirty")
            cursor.execute("DROP MATERIALIZED VIEW metrics_rollup_1h, metrics_rollup_1m CASCADE")
            cursor.execute("DROP TABLE metrics_sample CASCADE")


class Migration(migrations.Migration):
    dependencies = [("metrics", "0001_initial")]

    operations = [migrations.RunPython(create_storage, drop_storage)]
