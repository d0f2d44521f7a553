"""Store synthetic cases as real samples, for tests that go through the database."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np

from insight.synthetic import Case
from tests.alerts.factories import ingest


def store_case(team, case: Case, *, tag: str = "c0", end_s: int | None = None) -> tuple[list, datetime]:
    """Ingest every row of the case as 1-minute samples ending at `end_s` (default: this minute);
    returns the series in row order and the time of the target's breach."""
    from metrics.models import Series

    end_s = (int(time.time()) // 60 * 60) if end_s is None else end_s
    minutes = case.values.shape[1]
    ts = end_s - 60 * (minutes - 1 - np.arange(minutes))
    series = []
    for i, (kind, row) in enumerate(zip(case.kinds, case.values, strict=True)):
        labels = {"case": tag, "row": str(i), "service": "checkout" if i == 0 else f"svc{i % 7}"}
        ingest(team, f"synthetic_{kind}", labels, [[int(t), float(v)] for t, v in zip(ts, row, strict=True)])
        series.append(Series.objects.get(team=team, metric=f"synthetic_{kind}", labels=labels))
    return series, datetime.fromtimestamp(int(ts[case.t0]), UTC)
