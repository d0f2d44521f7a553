"""Builders for capacity tests: hourly utilization sent through the real ingest and rollups."""

from __future__ import annotations

import time

import numpy as np
import pytest

from capacity.models import Resource
from forecasting.receivers import detect_on_ingest
from metrics.models import Series
from metrics.services import rollups_refresh
from metrics.signals import samples_ingested
from tests.alerts.factories import ingest

DAY = 86400


@pytest.fixture(autouse=True)
def _no_detection_on_ingest():
    """The anomaly detector is not under test here (and is slow to learn from weeks of data)."""
    samples_ingested.disconnect(detect_on_ingest)
    yield
    samples_ingested.connect(detect_on_ingest)


def hourly_series(team, metric="disk_used", labels=None, *, days=20, level=40.0, per_day=2.0, noise=0.3, seed=1):
    """`days` of hourly samples ending now: `level` now, growing `per_day` a day."""
    now = int(time.time()) // 3600 * 3600
    n = days * 24
    ts = now - (n - 1 - np.arange(n)) * 3600
    rng = np.random.default_rng(seed)
    values = level + per_day * (ts - now) / DAY + rng.normal(0, noise, n)
    ingest(team, metric, labels or {"host": "db1"}, [[int(t), float(v)] for t, v in zip(ts, values, strict=True)])
    list(rollups_refresh())
    return Series.objects.get(team=team, metric=metric, labels=labels or {"host": "db1"})


def resource(team, series, **kw) -> Resource:
    defaults = {
        "name": "db1 disk",
        "kind": "disk",
        "scope": "host",
        "scope_name": "db1",
        "limit_mode": "percent",
        "limit": 100.0,
        "allocation": 4,
        "allocation_unit": "replicas",
        "unit_cost": 50,
        "horizon_days": 90,
    }
    return Resource.objects.create(team=team, series=series, **{**defaults, **kw})
