"""Goal: rollup answers equal aggregates of the raw samples after a backfill and after late data,
on either layout (metrics.storage.layout()).

Three days of 1-minute history for 100 series arrive oldest first (a backfill: far older than
any TimescaleDB refresh policy's window). Then every query_range answer (1 h raw at 1 min, 3 days
at 5 min from 1-minute rollups, 3 days at 1 h from 1-hour rollups) is compared with the same
aggregate computed directly from metrics_sample:
- at once, before any refresh (hours with a pending mark are answered from raw samples),
- after the refresh task ran (the rollups themselves are right, and no mark is left),
- after a late point (value 99999) into an hour already rolled up, before and after a refresh.
Committed data (transactional): TimescaleDB's refresh_continuous_aggregate refuses a transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import orjson
import pytest
from django.db import connection

from metrics import storage
from metrics.ingest import parse_json
from metrics.models import Series
from metrics.selectors import query_range
from metrics.services import rollups_refresh, samples_ingest
from metrics.signals import samples_ingested

SERIES = 100
DAYS = 3
HOUR = 3600
AGGS = ("avg", "min", "max", "count", "last")
DIRECT_SQL = {
    "avg": "avg(value)",
    "min": "min(value)",
    "max": "max(value)",
    "count": "count(*)",
    "last": "(array_agg(value ORDER BY ts DESC))[1]",
}


@pytest.fixture
def committed_storage(transactional_db):
    """Empty storage, and no receivers of samples_ingested: anomaly detection and alert evaluation
    on 432,000 backfilled points (run inline in tests) would take minutes and test nothing here."""
    receivers, samples_ingested.receivers = samples_ingested.receivers, []
    with connection.cursor() as cursor:
        storage.samples_truncate(cursor)
    yield
    samples_ingested.receivers = receivers
    with connection.cursor() as cursor:
        storage.samples_truncate(cursor)


def backfill(team_id: int, end: int) -> list[int]:
    """DAYS days of minutes before `end` for SERIES series, oldest day first, 20 series a batch."""
    rng = np.random.default_rng(18)
    start = end - DAYS * 86400
    for day in range(DAYS):
        ts = np.arange(start + day * 86400, start + (day + 1) * 86400, 60, dtype=np.int64)
        for first in range(0, SERIES, 20):
            body = {
                "series": [
                    {
                        "metric": "backfill",
                        "labels": {"n": str(n)},
                        "points": np.column_stack([ts, rng.normal(100 + n, 15, len(ts)).round(3)]).tolist(),
                    }
                    for n in range(first, first + 20)
                ]
            }
            batch = parse_json(orjson.dumps(body), max_points=50_000, now_s=end + 60)
            samples_ingest(team_id=team_id, batch=batch)
    return list(Series.objects.filter(metric="backfill").order_by("id").values_list("id", flat=True))


def direct(series_ids: list[int], *, start: int, end: int, step: int, agg: str) -> dict[int, dict[int, float]]:
    """{series: {bucket: value}} straight from metrics_sample, buckets aligned as query_range's."""
    first = start - start % step
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT series_id, floor(extract(epoch FROM ts) / %(step)s)::bigint * %(step)s AS b, {DIRECT_SQL[agg]} "
            "FROM metrics_sample WHERE series_id = ANY(%(ids)s) AND ts >= %(start)s AND ts < %(end)s GROUP BY 1, 2",
            {
                "step": step,
                "ids": series_ids,
                "start": datetime.fromtimestamp(first, UTC),
                "end": datetime.fromtimestamp(end - end % step + step, UTC),
            },
        )
        found: dict[int, dict[int, float]] = {sid: {} for sid in series_ids}
        for sid, bucket, value in cursor.fetchall():
            found[sid][bucket] = float(value)
    return found


def check_answers(series_ids: list[int], end: int, *, every_agg_for: list[int]) -> int:
    """Compare query_range with direct aggregates: avg for every series, every agg for a few."""
    shapes = [  # (start, step, expected source)
        (end - HOUR, 60, "raw"),
        (end - DAYS * 86400, 300, "1m"),
        (end - DAYS * 86400, HOUR, "1h"),
    ]
    compared = 0
    for start, step, source in shapes:
        for agg in AGGS:
            ids = series_ids if agg == "avg" else every_agg_for
            expected = direct(ids, start=start, end=end - 1, step=step, agg=agg)
            for sid in ids:
                result = query_range(series_id=sid, start_s=start, end_s=end - 1, step=step, agg=agg)
                assert result.source == source
                got = {b: v for b, v in result.points if v is not None and not (agg == "count" and v == 0)}
                assert got.keys() == expected[sid].keys(), (sid, agg, step)
                for bucket, value in expected[sid].items():
                    assert got[bucket] == pytest.approx(value, rel=1e-9, abs=1e-9), (sid, agg, step, bucket)
                compared += len(expected[sid])
    return compared


def check_hour_rollups(series_ids: list[int], end: int) -> None:
    """The 1-hour rollup rows themselves (what forecasting and capacity read) equal raw aggregates."""
    expected = direct(series_ids, start=end - DAYS * 86400, end=end - 1, step=HOUR, agg="avg")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT series_id, extract(epoch FROM bucket)::bigint, avg FROM metrics_rollup_1h "
            "WHERE series_id = ANY(%s) AND bucket >= %s",
            [series_ids, datetime.fromtimestamp(end - DAYS * 86400, UTC)],
        )
        stored = {(sid, b): v for sid, b, v in cursor.fetchall()}
    assert len(stored) == sum(len(v) for v in expected.values())
    for sid, buckets in expected.items():
        for bucket, value in buckets.items():
            assert stored[(sid, bucket)] == pytest.approx(value, rel=1e-9)


def refresh() -> None:
    list(rollups_refresh())
    with connection.cursor() as cursor:
        assert storage.rollups_pending(cursor) == 0


def test_rollups_equal_raw_aggregates_after_backfill_and_late_data(team, committed_storage):
    end = int(datetime.now(UTC).timestamp()) // HOUR * HOUR  # 3 full days ending at this hour
    series_ids = backfill(team.id, end)
    assert len(series_ids) == SERIES
    sample = [series_ids[0], series_ids[37], series_ids[-1]]

    assert check_answers(series_ids, end, every_agg_for=sample) > 0  # before any refresh
    refresh()
    check_answers(series_ids, end, every_agg_for=sample)
    check_hour_rollups(series_ids, end)

    # A late point into an hour rolled up two days ago, between two existing minutes.
    late_ts = end - 2 * 86400 + 10 * HOUR + 30 * 60 + 30
    body = {"series": [{"metric": "backfill", "labels": {"n": "37"}, "points": [[late_ts, 99999.0]]}]}
    result = samples_ingest(team_id=team.id, batch=parse_json(orjson.dumps(body), max_points=10))
    assert result.accepted == 1
    check_answers(series_ids, end, every_agg_for=sample)  # before the refresh: from raw samples
    hourly = query_range(series_id=series_ids[37], start_s=end - DAYS * 86400, end_s=end - 1, step=HOUR, agg="max")
    assert hourly.source == "1h"
    assert dict(hourly.points)[late_ts - late_ts % HOUR] == 99999.0
    refresh()
    check_answers(series_ids, end, every_agg_for=sample)
    check_hour_rollups(series_ids, end)
