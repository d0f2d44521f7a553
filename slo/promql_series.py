"""SLOs as PromQL series on /prometheus, from the per-minute SLI HiveOps records (`SLOHour`):

- `hiveops_slo_sli{slo, slo_id, service}`: good ÷ total of each minute (stamped at its end);
- `hiveops_slo_burn_rate{slo, slo_id, service, window}`: the error ratio over the trailing window
  (`5m`, `30m`, `1h`, `2h`, `6h`, `1d`, `3d`: the multi-window alerting pairs) ÷ the allowed
  error ratio, at each minute;
- `hiveops_slo_error_budget_remaining{slo, slo_id, service}`: the fraction of the error budget
  left over the SLO's window ending at each minute (1 untouched, below 0 overspent).

Minutes without data count as neither good nor bad here (HiveOps' status pages apply the SLO's
gap policy); a calendar-month SLO's budget is shown over a rolling 30 days."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from metrics.matchers import matches_all
from metrics.promql.data import SeriesData, register_source
from slo.models import SLO, SLOHour

BURN_WINDOWS = {"5m": 5, "30m": 30, "1h": 60, "2h": 120, "6h": 360, "1d": 1440, "3d": 4320}
BUDGET_MINUTES = {"7d": 7 * 1440, "28d": 28 * 1440, "30d": 30 * 1440, "month": 30 * 1440}


def _minutes(slo: SLO, start_s: float, end_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minute ends (unix s), good and total per minute (NaN without data) covering [start, end]."""
    first = datetime.fromtimestamp(start_s - start_s % 3600, UTC)
    rows = SLOHour.objects.filter(slo=slo, hour__gte=first, hour__lte=datetime.fromtimestamp(end_s, UTC))
    ends, good, total = [], [], []
    for hour, g, t in rows.order_by("hour").values_list("hour", "good", "total"):
        base = hour.timestamp()
        ends.append(base + 60 * np.arange(1, 61, dtype=np.float64))
        good.append(np.array([np.nan if v is None else v for v in g], dtype=np.float64))
        total.append(np.array([np.nan if v is None else v for v in t], dtype=np.float64))
    if not ends:
        return np.empty(0), np.empty(0), np.empty(0)
    return np.concatenate(ends), np.concatenate(good), np.concatenate(total)


def _trailing(good: np.ndarray, total: np.ndarray, minutes: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums of good and total over the trailing `minutes` at each minute (gaps as zero)."""
    g = np.concatenate(([0.0], np.cumsum(np.nan_to_num(good))))
    t = np.concatenate(([0.0], np.cumsum(np.nan_to_num(total))))
    idx = np.arange(1, len(good) + 1)
    lo = np.maximum(idx - minutes, 0)
    return g[idx] - g[lo], t[idx] - t[lo]


def _slos(team_ids: list[int]):
    return SLO.objects.filter(team_id__in=team_ids, enabled=True).select_related("service").order_by("id")


def _labels(slo: SLO, name: str, **extra: str) -> dict[str, str]:
    labels = {"__name__": name, "slo": slo.name, "slo_id": str(slo.uid), **extra}
    if slo.service_id:
        labels["service"] = slo.service.slug
    return labels


def _in_range(ends: np.ndarray, values: np.ndarray, start_s: float, end_s: float) -> tuple[np.ndarray, np.ndarray]:
    keep = (ends >= start_s) & (ends <= end_s) & ~np.isnan(values)
    return ends[keep], values[keep]


def sli_source(team_ids, matchers, start_s: float, end_s: float) -> list[SeriesData]:
    out = []
    for slo in _slos(team_ids):
        labels = _labels(slo, "hiveops_slo_sli")
        if matches_all(matchers, labels):
            ends, good, total = _minutes(slo, start_s, end_s)
            with np.errstate(all="ignore"):
                ratio = np.where(total > 0, good / total, np.nan)
            out.append(SeriesData(labels, *_in_range(ends, ratio, start_s, end_s)))
    return out


def burn_rate_source(team_ids, matchers, start_s: float, end_s: float) -> list[SeriesData]:
    out = []
    for slo in _slos(team_ids):
        wanted = {
            w: m
            for w, m in BURN_WINDOWS.items()
            if matches_all(matchers, _labels(slo, "hiveops_slo_burn_rate", window=w))
        }
        if not wanted:
            continue
        ends, good, total = _minutes(slo, start_s - max(wanted.values()) * 60, end_s)
        allowed = 1.0 - slo.objective / 100.0
        for window, minutes in wanted.items():
            g, t = _trailing(good, total, minutes)
            with np.errstate(all="ignore"):
                burn = np.where(t > 0, ((t - g) / t) / allowed, np.nan)
            labels = _labels(slo, "hiveops_slo_burn_rate", window=window)
            out.append(SeriesData(labels, *_in_range(ends, burn, start_s, end_s)))
    return out


def budget_source(team_ids, matchers, start_s: float, end_s: float) -> list[SeriesData]:
    out = []
    for slo in _slos(team_ids):
        labels = _labels(slo, "hiveops_slo_error_budget_remaining")
        if not matches_all(matchers, labels):
            continue
        minutes = BUDGET_MINUTES.get(slo.window, 30 * 1440)
        ends, good, total = _minutes(slo, start_s - minutes * 60, end_s)
        g, t = _trailing(good, total, minutes)
        allowed = 1.0 - slo.objective / 100.0
        with np.errstate(all="ignore"):
            left = np.where(t > 0, 1.0 - ((t - g) / t) / allowed, np.nan)
        out.append(SeriesData(labels, *_in_range(ends, left, start_s, end_s)))
    return out


def register() -> None:
    register_source("hiveops_slo_sli", sli_source)
    register_source("hiveops_slo_burn_rate", burn_rate_source)
    register_source("hiveops_slo_error_budget_remaining", budget_source)
