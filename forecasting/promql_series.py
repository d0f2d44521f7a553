"""HiveOps' own knowledge as PromQL series on /prometheus, so a Grafana panel can draw a metric
with its expected band and its anomaly score:

- `hiveops_forecast{metric="<metric>", <the series' labels>, quantile="…", horizon="short|daily"}`:
  the latest forecast of each series; quantile `0.5` is the mean, `0.1`/`0.9` the 80 % band,
  `0.025`/`0.975` the 95 % band;
- `hiveops_anomaly_score{metric="<metric>", <labels>}`: the score of every scored point;
- `hiveops_expected{metric="<metric>", <labels>, quantile="0.5|lower|upper"}`: the detector's
  expected value and band at every scored point (`lower`/`upper` as the detector set them).

A selector picks the underlying series with its other matchers (`metric` is the series' metric
name), so `hiveops_forecast{metric="cpu", host="web-1", quantile=~"0.1|0.9"}` is a band."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from forecasting.models import Forecast
from forecasting.selectors import scores_window
from metrics.matchers import Matcher
from metrics.promql.data import MAX_SERIES, QueryLimitError, SeriesData, register_source
from metrics.selectors import series_matching

FORECAST_BANDS = {"0.5": "mean", "0.1": "lo80", "0.9": "hi80", "0.025": "lo95", "0.975": "hi95"}
EXPECTED_BANDS = {"0.5": "expected", "lower": "lower", "upper": "upper"}
OWN_LABELS = ("quantile", "horizon")


def _underlying(team_ids: list[int], matchers: list[Matcher]):
    """The series the non-HiveOps matchers select, and the matchers kept for HiveOps' labels."""
    mine, theirs = [], []
    for m in matchers:
        if m.name == "__name__":
            continue
        if m.name in OWN_LABELS:
            mine.append(m)
        else:
            theirs.append(Matcher("__name__", m.op, m.value) if m.name == "metric" else m)
    chosen = series_matching(team_ids=team_ids, matchers=theirs, limit=MAX_SERIES)
    if len(chosen) > MAX_SERIES:
        raise QueryLimitError(f"the selector matches more than {MAX_SERIES} series; narrow it")
    return chosen, mine


def _labels(series, name: str, **extra: str) -> dict[str, str]:
    return {**series.labels, "metric": series.metric, **extra, "__name__": name}


def forecast_source(team_ids, matchers, start_s: float, end_s: float) -> list[SeriesData]:
    chosen, mine = _underlying(team_ids, matchers)
    by_id = {s.id: s for s in chosen}
    out = []
    for forecast in Forecast.objects.filter(series_id__in=list(by_id)).order_by("series_id", "kind"):
        stamps = forecast.start.timestamp() + forecast.step_s * np.arange(len(forecast.mean), dtype=np.float64)
        keep = (stamps >= start_s) & (stamps <= end_s)
        for quantile, field in FORECAST_BANDS.items():
            labels = _labels(by_id[forecast.series_id], "hiveops_forecast", quantile=quantile, horizon=forecast.kind)
            if all(m.matches(labels) for m in mine):
                values = np.asarray(getattr(forecast, field), dtype=np.float64)
                out.append(SeriesData(labels, stamps[keep], values[keep]))
    return out


def _scores(team_ids, matchers, start_s: float, end_s: float, *, expected: bool) -> list[SeriesData]:
    chosen, mine = _underlying(team_ids, matchers)
    windows = scores_window(
        series_ids=[s.id for s in chosen],
        start=datetime.fromtimestamp(start_s, UTC),
        end=datetime.fromtimestamp(end_s, UTC),
    )
    out = []
    for series in chosen:
        found = windows.get(series.id)
        if found is None:
            continue
        if not expected:
            labels = _labels(series, "hiveops_anomaly_score")
            if all(m.matches(labels) for m in mine):
                out.append(SeriesData(labels, found["ts"], found["score"]))
            continue
        for quantile, field in EXPECTED_BANDS.items():
            labels = _labels(series, "hiveops_expected", quantile=quantile)
            if all(m.matches(labels) for m in mine):
                values = found[field]
                keep = ~np.isnan(values)
                out.append(SeriesData(labels, found["ts"][keep], values[keep]))
    return out


def register() -> None:
    register_source("hiveops_forecast", forecast_source)
    register_source("hiveops_anomaly_score", lambda *a: _scores(*a, expected=False))
    register_source("hiveops_expected", lambda *a: _scores(*a, expected=True))
