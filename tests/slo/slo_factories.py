"""Builders for SLO tests: SLOs, SLAs and synthetic 1-minute rollups written straight into the
rollup table (as the rollup refresh would have left them), or through raw samples on TimescaleDB
(metrics.storage.layout())."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta as td

import numpy as np
from django.db import connection

from metrics import storage
from metrics.models import Series
from slo.models import SLA, SLO


def series(team, metric: str, **labels) -> Series:
    return Series.objects.create(team=team, metric=metric, labels={k: str(v) for k, v in labels.items()})


def write_minutes(series_obj: Series, start: datetime, values, counts=None) -> None:
    """One rollup row per minute from `start`: avg = last = value (NaN: no row), count 1 unless given."""
    values = np.asarray(values, dtype=np.float64)
    counts = np.ones(len(values)) if counts is None else np.asarray(counts, dtype=np.float64)
    keep = ~np.isnan(values)
    t0 = start.timestamp()
    buckets = [datetime.fromtimestamp(t0 + 60 * i, start.tzinfo) for i in np.flatnonzero(keep).tolist()]
    params = [series_obj.id, buckets, values[keep].tolist(), counts[keep].tolist()]
    with connection.cursor() as cursor:
        if not storage.timescale_enabled():
            cursor.execute(
                "INSERT INTO metrics_rollup_1m (series_id, bucket, min, max, avg, count, last) "
                "SELECT %s, b, v, v, v, c::bigint, v "
                "FROM unnest(%s::timestamptz[], %s::float8[], %s::float8[]) AS t(b, v, c)",
                params,
            )
            return
        # TimescaleDB: the rollups are continuous aggregates, written through raw samples (`count`
        # samples of the value within the minute) and the marks ingest would leave.
        cursor.execute(
            "INSERT INTO metrics_sample (series_id, ts, value) "
            "SELECT %s, b + k * INTERVAL '1 microsecond', v "
            "FROM unnest(%s::timestamptz[], %s::float8[], %s::float8[]) AS t(b, v, c) "
            "CROSS JOIN LATERAL generate_series(0, c::int - 1) AS k",
            params,
        )
        cursor.execute(
            "INSERT INTO metrics_rollup_dirty (series_id, hour) "
            "SELECT DISTINCT %s, date_bin(INTERVAL '1 hour', b, TIMESTAMPTZ 'epoch') "
            "FROM unnest(%s::timestamptz[]) AS b",
            params[:2],
        )


def cumulative(increments) -> np.ndarray:
    return np.cumsum(np.asarray(increments, dtype=np.float64))


def minutes_between(a: datetime, b: datetime) -> int:
    return int((b - a) / td(minutes=1))


def slo(team, **kw) -> SLO:
    defaults = {
        "name": "Checkout availability",
        "sli_kind": SLO.Kind.RATIO,
        "total_metric": "http_requests_total",
        "bad_metric": "http_errors_total",
        "objective": 99.9,
        "window": SLO.Window.D30,
    }
    obj = SLO(team=team, **{**defaults, **kw})
    obj.full_clean()
    obj.save()
    return obj


def sla(team, slo_obj, **kw) -> SLA:
    defaults = {
        "name": "Checkout gold",
        "customer": "ACME",
        "target": 99.9,
        "monthly_fee": "1000.00",
        "credit_tiers": [{"below": 99.9, "credit_percent": 10}, {"below": 99.0, "credit_percent": 25}],
        "stakeholders": "cfo@acme.example, ops@acme.example",
    }
    obj = SLA(team=team, slo=slo_obj, **{**defaults, **kw})
    obj.full_clean()
    obj.save()
    return obj
