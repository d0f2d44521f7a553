"""The write path, rollups, partitions and retention against the real database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from datetime import timedelta as td

import orjson
import pytest
from django.db import connection, connections

from metrics import storage
from metrics.ingest import parse_json
from metrics.models import Rollup1h, Rollup1m, Series
from metrics.selectors import query_range
from metrics.services import rollups_refresh, samples_ingest, storage_maintain

HOUR = 3600
NOW = int(datetime.now(UTC).timestamp()) // HOUR * HOUR - HOUR  # the start of the previous full hour


def batch(series: list[dict]):
    return parse_json(orjson.dumps({"series": series}), max_points=100_000)


def minutes(start: int, count: int, value=lambda i: float(i)):
    return [[start + 60 * i, value(i)] for i in range(count)]


def scalar(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


@pytest.mark.usefixtures("storage_clean")
class TestIngest:
    def test_it_creates_series_once_and_writes_samples(self, team):
        result = samples_ingest(team_id=team.id, batch=batch([{"metric": "m", "points": minutes(NOW, 10)}]))
        assert (result.accepted, result.duplicates, result.series) == (10, 0, 1)
        again = samples_ingest(team_id=team.id, batch=batch([{"metric": "m", "points": minutes(NOW, 12)}]))
        assert (again.accepted, again.duplicates) == (2, 10)
        assert Series.objects.count() == 1
        assert scalar("SELECT count(*) FROM metrics_sample") == 12

    def test_duplicates_inside_one_batch_are_stored_once(self, team):
        # The same value twice is an idempotent duplicate; a different one is refused by the parser.
        points = [[NOW, 1.0], [NOW, 1.0], [NOW + 60, 3.0]]
        result = samples_ingest(team_id=team.id, batch=batch([{"metric": "m", "points": points}]))
        assert (result.accepted, result.duplicates) == (2, 1)

    def test_ingest_marks_rollup_hours_dirty(self, team):
        samples_ingest(team_id=team.id, batch=batch([{"metric": "m", "points": minutes(NOW - 30 * 60, 60)}]))
        assert scalar("SELECT count(*) FROM metrics_rollup_dirty") == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_ingest_of_the_same_new_series_makes_one_series(team, storage_clean):
    """Several threads (own connections) send overlapping batches for the same new series."""
    results, errors = [], []
    barrier = threading.Barrier(4)

    def worker(offset: int) -> None:
        try:
            body = batch(
                [
                    {"metric": f"m{k}", "labels": {"k": str(k)}, "points": minutes(NOW + offset * 600, 40)}
                    for k in range(20)
                ]
            )
            barrier.wait()
            results.append(samples_ingest(team_id=team.id, batch=body))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Series.objects.count() == 20
    stored = scalar("SELECT count(*) FROM metrics_sample")
    assert stored == sum(r.accepted for r in results)
    # offsets of 10 minutes and 40 minutes per batch: distinct minutes 0..(3*10+40)
    assert stored == 20 * (3 * 10 + 40)


@pytest.mark.usefixtures("storage_clean")
class TestRollups:
    def ingest_two_hours(self, team):
        # minute i has value i: hour 1 holds 0..59, hour 2 holds 60..119
        samples_ingest(team_id=team.id, batch=batch([{"metric": "m", "points": minutes(NOW - HOUR, 120)}]))
        return Series.objects.get()

    def test_refresh_computes_minute_and_hour_rollups(self, team, plain_layout):
        series = self.ingest_two_hours(team)
        progress = list(rollups_refresh())
        assert progress[-1][0] == 2
        assert Rollup1m.objects.filter(series=series).count() == 120
        first_hour = Rollup1h.objects.get(series=series, bucket=datetime.fromtimestamp(NOW - HOUR, UTC))
        assert (first_hour.min, first_hour.max, first_hour.avg, first_hour.count, first_hour.last) == (
            0.0,
            59.0,
            29.5,
            60,
            59.0,
        )
        assert scalar("SELECT count(*) FROM metrics_rollup_dirty") == 0

    def test_backfill_recomputes_an_old_hour(self, team, plain_layout):
        series = self.ingest_two_hours(team)
        list(rollups_refresh())
        late = [[NOW - HOUR + 30, 1000.0]]  # a late sample inside the first hour
        samples_ingest(team_id=team.id, batch=batch([{"metric": "m", "points": late}]))
        list(rollups_refresh())
        hour = Rollup1h.objects.get(series=series, bucket=datetime.fromtimestamp(NOW - HOUR, UTC))
        assert (hour.max, hour.count) == (1000.0, 61)

    def test_query_range_gives_the_same_answer_from_raw_and_rollups(self, team):
        series = self.ingest_two_hours(team)
        list(rollups_refresh())
        for agg in ("avg", "min", "max", "count", "last"):
            raw = query_range(series_id=series.id, start_s=NOW - HOUR, end_s=NOW + HOUR - 1, step=HOUR, agg=agg)
            # A range longer than the raw limit, same buckets of interest, read from rollups.
            long = query_range(series_id=series.id, start_s=NOW - 10 * HOUR, end_s=NOW + HOUR - 1, step=HOUR, agg=agg)
            assert raw.source == "raw"
            assert long.source == "1h"
            assert long.points[-2:] == raw.points, agg

    def test_minute_rollups_serve_long_ranges_with_minute_steps(self, team):
        series = self.ingest_two_hours(team)
        list(rollups_refresh())
        result = query_range(series_id=series.id, start_s=NOW - 10 * HOUR, end_s=NOW + HOUR - 1, step=600, agg="max")
        assert result.source == "1m"
        assert [v for _, v in result.points if v is not None] == [9.0 + 10 * i for i in range(12)]


@pytest.mark.usefixtures("storage_clean")
class TestQueryRange:
    def test_buckets_are_aligned_and_gaps_are_none(self, team):
        samples_ingest(team_id=team.id, batch=batch([{"metric": "m", "points": [[NOW + 5, 1.0], [NOW + 125, 3.0]]}]))
        series = Series.objects.get()
        result = query_range(series_id=series.id, start_s=NOW + 30, end_s=NOW + 150, step=60, agg="avg")
        assert result.points == [(NOW, 1.0), (NOW + 60, None), (NOW + 120, 3.0)]
        counts = query_range(series_id=series.id, start_s=NOW, end_s=NOW + 150, step=60, agg="count")
        assert [v for _, v in counts.points] == [1, 0, 1]

    def test_p95_uses_raw_samples_within_a_week(self, team):
        yesterday_1am = NOW // 86400 * 86400 - 86400 + HOUR  # 100 minutes inside one day bucket
        samples_ingest(team_id=team.id, batch=batch([{"metric": "m", "points": minutes(yesterday_1am, 100)}]))
        series = Series.objects.get()
        result = query_range(series_id=series.id, start_s=NOW - 2 * 86400, end_s=NOW, step=86400, agg="p95")
        assert result.source == "raw"
        assert [v for _, v in result.points if v is not None] == [pytest.approx(94.05)]


@pytest.mark.usefixtures("plain_layout")
class TestStorageMaintenance:
    def test_partitions_exist_for_the_retention_window(self, db, settings):
        with connection.cursor() as cursor:
            names = storage.existing_partitions(cursor)
        today = datetime.now(UTC)
        for offset in (0, 1, 2, 3):
            assert storage.RAW_PARTITION.format(day=today + td(days=offset)) in names

    def test_rows_in_the_default_partition_move_into_a_new_partition(self, team, storage_clean):
        far = datetime.now(UTC) + td(days=40)
        day = far.replace(hour=0, minute=0, second=0, microsecond=0)
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO metrics_sample VALUES (1, %s, 1.0), (1, %s, 2.0)", [day, day + td(hours=5)])
            assert scalar("SELECT count(*) FROM metrics_sample_default") == 2
            created = storage.partitions_ensure(cursor, days_back=0, days_ahead=0, now=far)
        assert created == [storage.RAW_PARTITION.format(day=day)]
        assert scalar("SELECT count(*) FROM metrics_sample_default") == 0
        assert scalar(f"SELECT count(*) FROM {created[0]}") == 2

    def test_retention_drops_old_partitions_and_rollups(self, team, settings, storage_clean):
        settings.HIVEOPS_RETENTION_RAW_DAYS = 30
        settings.HIVEOPS_RETENTION_ROLLUP_DAYS = 400
        old = datetime.now(UTC) - td(days=10)
        samples_ingest(team_id=team.id, batch=batch([{"metric": "m", "points": [[old.timestamp(), 1.0]]}]))
        list(rollups_refresh())
        # 25 days later the sample is 35 days old: its partition goes, its rollups stay.
        report = storage_maintain(now=datetime.now(UTC) + td(days=25))
        assert report["layout"] == "partitions"
        assert storage.RAW_PARTITION.format(day=old) in report["dropped"]
        assert scalar("SELECT count(*) FROM metrics_sample") == 0
        assert scalar("SELECT count(*) FROM metrics_rollup_1h") == 1
        report = storage_maintain(now=datetime.now(UTC) + td(days=395))
        assert scalar("SELECT count(*) FROM metrics_rollup_1h") == 0
        assert report["rollup_rows_deleted"] == 2

    def test_maintenance_is_idempotent(self, db):
        storage_maintain()
        assert storage_maintain()["created"] == []


def test_single_day_batches_go_straight_to_their_partition(plain_layout):
    import numpy as np

    from metrics.services import DAY_US, _target_table

    day = (int(datetime.now(UTC).timestamp() * 1e6) // DAY_US) * DAY_US
    with connection.cursor() as cursor:
        same_day = np.array([day + 1, day + 5_000_000], dtype=np.int64)
        assert _target_table(cursor, same_day) == storage.RAW_PARTITION.format(day=datetime.now(UTC))
        two_days = np.array([day - 1, day + 1], dtype=np.int64)
        assert _target_table(cursor, two_days) == "metrics_sample"
        ancient = np.array([1_000_000], dtype=np.int64)  # 1970: no partition, the parent routes it
        assert _target_table(cursor, ancient) == "metrics_sample"
