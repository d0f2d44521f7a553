"""Reads of SLOs: tenant-scoped querysets, statuses of many SLOs from one query over the
recorded hours, and per-minute data of one SLO for charts and reports."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta as td

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from slo import calculations as calc
from slo.models import SLA, SLO, SLOHour
from slo.windows import hour_floor, minute_floor, window_bounds

MAIN = "window"


def slos_for_teams(*, team_ids: list[int]) -> QuerySet[SLO]:
    return SLO.objects.filter(team_id__in=team_ids).select_related("service", "team")


def slas_for_teams(*, team_ids: list[int]) -> QuerySet[SLA]:
    return SLA.objects.filter(team_id__in=team_ids).select_related("slo", "slo__service", "team")


def settled_end(now: datetime | None = None) -> datetime:
    """The end (exclusive) of the minutes whose rollups are complete: now minus the settle delay
    (the rollup refresh interval), floored to the minute."""
    now = now or timezone.now()
    return minute_floor(now - td(seconds=getattr(settings, "HIVEOPS_SLO_SETTLE_SECONDS", 60)))


def status_end(slo: SLO, end: datetime) -> datetime:
    """Statuses never reach past what is recorded (unrecorded minutes are not gaps)."""
    if slo.recorded_through is None:
        return end
    return min(end, slo.recorded_through)


# Sums over [ws, we) per (SLO, window), in two parts. Whole hours come from the stored sums by an
# index-only scan of the covering unique index; the (at most two) edge hours of a window from
# slices of their minute arrays. Reading the arrays of every hour made the rows 20x wider.
WHOLE_SQL = """
SELECT w.slo_id, w.k, sum(h.good_sum), sum(h.total_sum), sum(h.observed)
FROM unnest(%(slos)s::bigint[], %(keys)s::int[], %(starts)s::timestamptz[], %(ends)s::timestamptz[])
    AS w(slo_id, k, hs, he)
JOIN alerts_slohour h ON h.slo_id = w.slo_id AND h.hour >= w.hs AND h.hour < w.he
GROUP BY 1, 2
"""
EDGE_SQL = """
SELECT e.slo_id, e.k,
    (SELECT sum(x) FROM unnest(h.good[e.lo:e.hi]) x),
    (SELECT sum(x) FROM unnest(h.total[e.lo:e.hi]) x),
    (SELECT count(x) FROM unnest(h.total[e.lo:e.hi]) x)
FROM unnest(%(slos)s::bigint[], %(keys)s::int[], %(hours)s::timestamptz[], %(lo)s::int[], %(hi)s::int[])
    AS e(slo_id, k, hour, lo, hi)
JOIN alerts_slohour h ON h.slo_id = e.slo_id AND h.hour = e.hour
"""


def _split(ws: datetime, we: datetime) -> tuple[tuple[datetime, datetime], list[tuple[datetime, int, int]]]:
    """Whole hours [hs, he) and edge hours (hour, first minute, last minute; 1-based) of [ws, we)."""
    hs = ws if ws == hour_floor(ws) else hour_floor(ws) + td(hours=1)
    he = hour_floor(we)
    edges = []
    if hs > he:  # the window lies inside one hour
        h = hour_floor(ws)
        return (hs, hs), [(h, ws.minute + 1, we.minute)]
    if ws < hs:
        edges.append((hour_floor(ws), ws.minute + 1, 60))
    if we > he:
        edges.append((he, 1, we.minute))
    return (hs, he), edges


def window_sums(windows: list[tuple[int, int, datetime, datetime]]) -> dict[tuple[int, int], tuple[float, float, int]]:
    """(good, total, observed) per (slo_id, key) for windows [ws, we) given as (slo_id, key, ws, we)."""
    whole: dict[str, list] = {"slos": [], "keys": [], "starts": [], "ends": []}
    edge: dict[str, list] = {"slos": [], "keys": [], "hours": [], "lo": [], "hi": []}
    for slo_id, k, ws, we in windows:
        (hs, he), edges = _split(ws, we)
        if he > hs:
            for name, value in zip(whole, (slo_id, k, hs, he), strict=True):
                whole[name].append(value)
        for hour, lo, hi in edges:
            for name, value in zip(edge, (slo_id, k, hour, lo, hi), strict=True):
                edge[name].append(value)
    found: dict[tuple[int, int], tuple[float, float, int]] = {}
    with connection.cursor() as cursor:
        for sql, params in ((WHOLE_SQL, whole), (EDGE_SQL, edge)):
            if not params["slos"]:
                continue
            cursor.execute(sql, params)
            for slo_id, k, good, total, observed in cursor.fetchall():
                g, t, o = found.get((slo_id, k), (0.0, 0.0, 0))
                found[(slo_id, k)] = (g + float(good or 0), t + float(total or 0), o + int(observed or 0))
    return found


def statuses(slos: list[SLO], *, end: datetime | None = None) -> dict[int, calc.Status]:
    """The status of every SLO at `end` (default: the settled end), from one query."""
    end = end or settled_end()
    names = [MAIN, *calc.BURN_WINDOWS]
    windows = []
    bounds = {}
    for slo in slos:
        as_of = status_end(slo, end)
        start, full_end = window_bounds(slo.window, slo.timezone, as_of)
        bounds[slo.id] = (as_of, start, full_end)
        for k, name in enumerate(names):
            ws = start if name == MAIN else as_of - td(seconds=calc.BURN_WINDOWS[name])
            windows.append((slo.id, k, ws, as_of))
    found = window_sums(windows) if slos else {}
    out = {}
    for slo in slos:
        as_of, start, full_end = bounds[slo.id]
        sums = {}
        for k, name in enumerate(names):
            minutes = int((as_of - start).total_seconds() // 60) if name == MAIN else calc.BURN_WINDOWS[name] // 60
            good, total, observed = found.get((slo.id, k), (0.0, 0.0, 0))
            sums[name] = calc.Sums(good, total, observed, max(minutes, 0))
        out[slo.id] = calc.status_from_sums(
            window=sums.pop(MAIN),
            burn=sums,
            objective=slo.objective_ratio,
            policy=slo.gap_policy,
            time_based=slo.time_based,
            as_of=as_of,
            window_start=start,
            window_end=full_end,
        )
    return out


def slo_status(slo: SLO, *, end: datetime | None = None) -> calc.Status:
    return statuses([slo], end=end)[slo.id]


def slo_minutes(slo: SLO, start: datetime, end: datetime) -> tuple[np.ndarray, np.ndarray]:
    """Recorded (good, total) per minute over [start, end); NaN where no data or not recorded."""
    n = int((end - start).total_seconds() // 60)
    good, total = np.full(n, np.nan), np.full(n, np.nan)
    rows = SLOHour.objects.filter(slo=slo, hour__gt=start - td(hours=1), hour__lt=end).values_list(
        "hour", "good", "total"
    )
    for hour, g, t in rows:
        offset = int((hour - start).total_seconds() // 60)
        lo, hi = max(0, -offset), min(60, n - offset)
        if hi <= lo:
            continue
        good[offset + lo : offset + hi] = np.array(g[lo:hi], dtype=np.float64)
        total[offset + lo : offset + hi] = np.array(t[lo:hi], dtype=np.float64)
    return good, total


def slo_history(slo: SLO, status: calc.Status) -> dict:
    """Hourly chart data over the current window: SLI per hour and the remaining error budget
    (burn-down) at the end of each hour."""
    good, total = slo_minutes(slo, status.window_start, status.as_of)
    window = calc.sums_of(good, total)
    fill = calc.gap_fill(window, time_based=slo.time_based)
    gap = np.isnan(total)
    if slo.gap_policy == calc.GOOD:
        good, total = np.where(gap, fill, good), np.where(gap, fill, total)
    elif slo.gap_policy == calc.BAD:
        good, total = np.where(gap, 0.0, good), np.where(gap, fill, total)
    else:
        good, total = np.nan_to_num(good, nan=0.0), np.nan_to_num(total, nan=0.0)
    first = hour_floor(status.window_start)
    offset = int((status.window_start - first).total_seconds() // 60)
    n = len(total) + offset
    hours = int(np.ceil(n / 60)) if n else 0
    pad = hours * 60 - n

    def by_hour(a: np.ndarray) -> np.ndarray:
        return np.concatenate([np.zeros(offset), a, np.zeros(pad)]).reshape(hours, 60).sum(axis=1)

    g_h, t_h = by_hour(good), by_hour(total)
    times = [int(first.timestamp()) + 3600 * i for i in range(hours)]
    sli = [float(g / t) if t > 0 else None for g, t in zip(g_h, t_h, strict=True)]
    consumed = np.cumsum(t_h - g_h)
    budget = status.budget_units
    remaining = [float(1 - c / budget) if budget > 0 else None for c in consumed]
    return {"times": times, "sli": sli, "budget_remaining": remaining, "objective": slo.objective_ratio}
