"""The storage layout switch, the layout choice of migration 0002, and the TimescaleDB layout.

Tests marked by the `timescale_layout` fixture need a database migrated on a server with
TimescaleDB preloaded; elsewhere they skip and say why. The rest run on either layout.
"""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td
from io import StringIO

import orjson
import pytest
from django.db import connection
from django.test import Client

from metrics import storage, timescale
from metrics.apps import _say_layout
from metrics.ingest import parse_json
from metrics.selectors import query_range
from metrics.services import rollups_refresh, samples_ingest
from metrics.storage_health import StorageCollector

HOUR = 3600


class TestChoice:
    @pytest.mark.parametrize(
        ("setting", "expected"),
        [
            ("timescaledb", True),
            ("pg_stat_statements, timescaledb", True),
            ("'$libdir/timescaledb'", True),
            ('"timescaledb-2.28.3"', True),
            ("pg_stat_statements", False),
            ("", False),
            ("timescaledb_toolkit", False),
        ],
    )
    def test_preload_setting_is_parsed(self, setting, expected):
        assert timescale.preloaded(setting.replace("'", "")) is expected

    def test_plain_can_be_forced(self, db):
        with connection.cursor() as cursor:
            choice = timescale.layout_choose(cursor, forced="plain")
        assert choice == timescale.LayoutChoice("plain", "HIVEOPS_STORAGE_LAYOUT=plain")

    def test_an_unknown_setting_is_refused_by_name(self, db):
        with connection.cursor() as cursor, pytest.raises(timescale.LayoutUnavailable, match="HIVEOPS_STORAGE_LAYOUT"):
            timescale.layout_choose(cursor, forced="mongo")

    def test_auto_picks_what_this_server_can_do_and_says_why(self, db):
        with connection.cursor() as cursor:
            choice = timescale.layout_choose(cursor, forced="auto")
        assert choice.layout == storage.layout()
        if choice.layout == storage.PLAIN:
            assert "timescaledb" in choice.reason  # not installed, not preloaded, or not creatable
            with connection.cursor() as cursor, pytest.raises(timescale.LayoutUnavailable, match=choice.reason):
                timescale.layout_choose(cursor, forced="timescaledb")

    def test_migration_builds_the_chosen_layout_and_migrate_says_which(self, db, settings):
        """Migration 0002's code in a scratch schema (rolled back with the test's transaction)."""
        with connection.cursor() as cursor:
            cursor.execute("CREATE SCHEMA layout_scratch")
            cursor.execute("SET LOCAL search_path TO layout_scratch, public")
            choice = timescale.layout_create(cursor, forced="plain", raw_days=2, rollup_days=10)
            assert storage.layout_detect(cursor) == "plain"
            assert storage.layout_reason(cursor) == "hiveops layout: plain (HIVEOPS_STORAGE_LAYOUT=plain)"
            cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'layout_scratch'")
            assert cursor.fetchone()[0] >= 4 + 6  # sample default, rollups, marks, 6 daily partitions
        out = StringIO()
        _say_layout(sender=None, stdout=out, verbosity=1)
        assert out.getvalue() == f"  metrics storage layout: plain ({choice.reason})\n"


class TestSchema:
    def test_current_names_from_2_18(self):
        sql = "\n".join(timescale.schema_statements(timescale.features((2, 28, 3)), raw_days=30, rollup_days=400))
        assert "timescaledb.enable_columnstore = true" in sql
        assert "timescaledb.segmentby = 'series_id'" in sql
        assert "CALL add_columnstore_policy('metrics_sample', after => INTERVAL '2 days')" in sql
        assert "compress" not in sql
        assert "by_range('ts', INTERVAL '1 day')" in sql

    def test_old_names_before_2_18(self):
        sql = "\n".join(timescale.schema_statements(timescale.features((2, 17, 2)), raw_days=30, rollup_days=400))
        assert "timescaledb.compress_segmentby = 'series_id'" in sql
        assert "add_compression_policy('metrics_sample'" in sql
        assert "columnstore" not in sql

    def test_hourly_aggregate_is_built_on_the_minute_one(self):
        statements = timescale.schema_statements(timescale.features((2, 28, 3)), raw_days=30, rollup_days=400)
        hourly = next(s for s in statements if "VIEW metrics_rollup_1h" in s)
        assert "FROM metrics_rollup_1m" in hourly
        assert "sum(avg * count) / sum(count)" in hourly
        assert "materialized_only = false" in hourly
        old = timescale.schema_statements(timescale.features((2, 8, 0)), raw_days=30, rollup_days=400)
        assert "FROM metrics_sample" in next(s for s in old if "VIEW metrics_rollup_1h" in s)

    def test_touched_hours_merge_into_windows(self):
        h = datetime(2026, 12, 1, tzinfo=UTC)
        hours = [h + td(hours=n) for n in (5, 0, 1, 1, 2, 7)]
        assert timescale.windows(hours) == [
            (h, h + td(hours=3)),
            (h + td(hours=5), h + td(hours=6)),
            (h + td(hours=7), h + td(hours=8)),
        ]


def test_conftest_storage_helpers_work_on_this_layout(team, storage_clean):
    """django_db_setup's layout_prepare and storage_clean's samples_truncate on the layout in use."""
    with connection.cursor() as cursor:
        created = storage.layout_prepare(cursor, days_back=1, days_ahead=3)
        assert created == []  # already there on plain (django_db_setup), nothing to make on TimescaleDB
        body = orjson.dumps({"series": [{"metric": "m", "points": [[1e9, 1]]}]})
        samples_ingest(team_id=team.id, batch=parse_json(body, max_points=1))
        storage.samples_truncate(cursor)
        for table in ("metrics_sample", "metrics_rollup_1m", "metrics_rollup_1h", "metrics_rollup_dirty"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            assert cursor.fetchone()[0] == 0, table


def test_storage_gauges(team, storage_clean):
    now = int(datetime.now(UTC).timestamp()) // 60 * 60
    body = {"series": [{"metric": "m", "points": [[now - 7200, 1.0], [now - 60, 2.0]]}]}
    samples_ingest(team_id=team.id, batch=parse_json(orjson.dumps(body), max_points=10))
    families = {f.name: f for f in StorageCollector().collect()}
    assert families["hiveops_rollup_pending_marks"].samples[0].value >= 2
    job_families = [name for name in families if name.startswith("hiveops_timescaledb_job")]
    assert bool(job_families) is storage.timescale_enabled()  # absent on the plain layout


# TimescaleDB only ---------------------------------------------------------------------------------


def test_timescaledb_layout(timescale_layout):
    """Hypertable, columnstore segmented by series, retention, hierarchical aggregates, policies."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT hypertable_name FROM timescaledb_information.hypertables")
        assert ("metrics_sample",) in cursor.fetchall()
        cursor.execute("SELECT proc_name, hypertable_name FROM timescaledb_information.jobs")
        jobs = set(cursor.fetchall())
        assert ("policy_compression", "metrics_sample") in jobs
        assert ("policy_retention", "metrics_sample") in jobs
        cursor.execute("SELECT view_name, view_definition FROM timescaledb_information.continuous_aggregates")
        views = dict(cursor.fetchall())
        assert {"metrics_rollup_1m", "metrics_rollup_1h"} <= views.keys()
        if timescale.features(timescale.extension_version(cursor)).hierarchical:
            assert "metrics_rollup_1m" in views["metrics_rollup_1h"]
        assert storage.layout_reason(cursor).startswith("hiveops layout: timescaledb (")


def test_timescaledb_health_lists_the_policies(timescale_layout):
    with connection.cursor() as cursor:
        jobs = timescale.jobs_health(cursor)
    assert {"policy_compression", "policy_retention", "policy_refresh_continuous_aggregate"} <= {j.proc for j in jobs}
    assert all(job.failures >= 0 for job in jobs)


@pytest.mark.django_db(transaction=True)
def test_timescaledb_refresh_materialises_touched_hours(team, timescale_layout):
    """A backfill below the watermark: answered from raw at once, materialised by the refresh."""
    with connection.cursor() as cursor:
        storage.samples_truncate(cursor)
    old = int(datetime.now(UTC).timestamp()) // HOUR * HOUR - 5 * 86400
    body = {"series": [{"metric": "m", "points": [[old + 60 * i, float(i)] for i in range(120)]}]}
    samples_ingest(team_id=team.id, batch=parse_json(orjson.dumps(body), max_points=200))
    series_id = team.series.get().id
    before = query_range(series_id=series_id, start_s=old - 86400, end_s=old + 2 * HOUR - 1, step=HOUR, agg="avg")
    assert [v for _, v in before.points if v is not None] == [29.5, 89.5]
    assert [done for done, _ in rollups_refresh()][-1] == 2
    with connection.cursor() as cursor:
        assert storage.rollups_pending(cursor) == 0
        cursor.execute("SELECT avg, count FROM metrics_rollup_1h WHERE series_id = %s ORDER BY bucket", [series_id])
        assert cursor.fetchall() == [(29.5, 60), (89.5, 60)]
        storage.samples_truncate(cursor)


def test_metrics_page_shows_job_health(timescale_layout, settings):
    settings.HIVEOPS_METRICS_TOKEN = "scrape-secret-1234"
    settings.HIVEOPS_METRICS_ALLOW = []
    body = Client(HTTP_AUTHORIZATION="Bearer scrape-secret-1234").get("/metrics").content.decode()
    assert "hiveops_timescaledb_job_failures{" in body
    assert "hiveops_rollup_pending_marks " in body
