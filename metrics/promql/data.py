"""Where the PromQL engine's samples come from: the caller's series chosen by label matchers
(`metrics/matchers.py`, RE2) and their raw samples, or hourly rollups for long ranges at an
hourly step (as HiveOps' own `query_range` does).

Other apps can add series of their own (forecasts, anomaly scores, SLO burn rates) by
registering a `Source` for a metric name prefix: the engine asks it instead of the samples
table. Registration happens in those apps' `ready()`, so metrics never imports them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from django.db import connection

from metrics.matchers import Matcher
from metrics.selectors import samples_window, series_matching

MAX_SERIES = 10_000
PAIR = np.dtype([("t", ">f8"), ("v", ">f8")])  # PostgreSQL's binary float8 pairs
MAX_SAMPLES = 20_000_000  # estimated at one sample a minute per series


class QueryLimitError(ValueError):
    """A query too large to answer (Prometheus' `execution` error type)."""


@dataclass(slots=True)
class SeriesData:
    labels: dict[str, str]  # with __name__
    ts: np.ndarray  # unix seconds, ascending
    values: np.ndarray


# A source answers (team_ids, matchers, start_s, end_s) with series data for names it owns.
Source = Callable[[list[int], list[Matcher], float, float], list[SeriesData]]
SOURCES: dict[str, Source] = {}


def register_source(prefix: str, source: Source) -> None:
    SOURCES[prefix] = source


def _source_for(matchers: list[Matcher]) -> Source | None:
    name = next((m.value for m in matchers if m.name == "__name__" and m.op == "="), None)
    if name is None:
        return None
    return next((src for prefix, src in SOURCES.items() if name.startswith(prefix)), None)


def select(*, team_ids: list[int], matchers: list[Matcher], start_s: float, end_s: float) -> list[SeriesData]:
    """Raw samples in [start, end] of every series the matchers select."""
    source = _source_for(matchers)
    if source is not None:
        return source(team_ids, matchers, start_s, end_s)
    chosen = _series(team_ids, matchers)
    if len(chosen) * max(end_s - start_s, 60) / 60 > MAX_SAMPLES:
        raise QueryLimitError(
            "the query would read too many samples; narrow the selector or the range "
            "(a step of 1h or more over a long range reads hourly rollups)"
        )
    data = samples_window(
        series_ids=[s.id for s in chosen],
        start=datetime.fromtimestamp(start_s, UTC),
        end=datetime.fromtimestamp(end_s, UTC),
    )
    empty = (np.empty(0), np.empty(0))
    return [SeriesData({**s.labels, "__name__": s.metric}, *data.get(s.id, empty)) for s in chosen]


def select_hourly_last(
    *, team_ids: list[int], matchers: list[Matcher], start_s: float, end_s: float
) -> list[SeriesData] | None:
    """The newest value of each hour in [start, end) from the hourly rollup, stamped at the
    hour's end (so the value at t is the last sample before t). None when another source owns
    the metric."""
    if _source_for(matchers) is not None:
        return None
    chosen = _series(team_ids, matchers)
    by_id = {}
    if chosen:
        with connection.cursor() as cursor:
            # One bytea of binary (time, value) pairs per series: numpy decodes it without a
            # Python float per row (array_agg of 720 rows x 1,000 series took seconds).
            cursor.execute(
                "SELECT series_id, string_agg(float8send(extract(epoch FROM bucket)::float8 + 3600)"
                " || float8send(last), ''::bytea ORDER BY bucket) FROM metrics_rollup_1h"
                " WHERE series_id = ANY(%s) AND bucket >= %s AND bucket < %s GROUP BY series_id",
                [
                    [s.id for s in chosen],
                    datetime.fromtimestamp(start_s, UTC),
                    datetime.fromtimestamp(end_s, UTC),
                ],
            )
            for sid, payload in cursor.fetchall():
                pairs = np.frombuffer(payload, dtype=PAIR)
                by_id[sid] = (pairs["t"].astype(np.float64), pairs["v"].astype(np.float64))
    empty = (np.empty(0), np.empty(0))
    return [SeriesData({**s.labels, "__name__": s.metric}, *by_id.get(s.id, empty)) for s in chosen]


def _series(team_ids: list[int], matchers: list[Matcher]):
    chosen = series_matching(team_ids=team_ids, matchers=matchers, limit=MAX_SERIES)
    if len(chosen) > MAX_SERIES:
        raise QueryLimitError(f"the selector matches more than {MAX_SERIES} series; narrow it")
    return chosen
