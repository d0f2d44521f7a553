"""Recording the per-minute SLI of SLOs into SLOHour rows, from 1-minute rollups (raw samples
only for latency judged per sample). Batched: one series lookup and one rollup read for all
SLOs that share a time range, never one query per SLO."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timedelta as td

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from metrics.matchers import matches
from metrics.models import Series
from slo import calculations as calc
from slo.models import SLO, SLOHour
from slo.windows import hour_floor

LOOKBACK = td(minutes=calc.COUNTER_LOOKBACK_MIN)
HOUR = td(hours=1)


def backfill_days() -> int:
    return getattr(settings, "HIVEOPS_SLO_BACKFILL_DAYS", 62)


@dataclass
class Roles:
    """Series ids of an SLO by role: good, bad, total (event SLIs) or values."""

    good: list[int] = field(default_factory=list)
    bad: list[int] = field(default_factory=list)
    total: list[int] = field(default_factory=list)
    values: list[int] = field(default_factory=list)

    def all(self) -> list[int]:
        return sorted(set(self.good + self.bad + self.total + self.values))


def _selectors(slo: SLO) -> dict[str, tuple[str, list[dict]]]:
    if slo.sli_kind == SLO.Kind.RATIO:
        out = {"total": (slo.total_metric, slo.total_matchers)}
        if slo.good_metric:
            out["good"] = (slo.good_metric, slo.good_matchers)
        else:
            out["bad"] = (slo.bad_metric, slo.bad_matchers)
        return out
    if slo.sli_kind == SLO.Kind.LATENCY and slo.latency_source == SLO.LatencySource.BUCKETS:
        return {"good": (f"{slo.metric}_bucket", slo.matchers), "total": (f"{slo.metric}_count", slo.matchers)}
    return {"values": (slo.metric, slo.matchers)}


def _le_matches(labels: dict, threshold: float) -> bool:
    try:
        return float(labels.get("le", "nan")) == threshold
    except ValueError:
        return False


def resolve_series(slos: list[SLO]) -> dict[int, Roles]:
    """The series of every SLO, by role, from one query over the metrics they name."""
    wanted = {(slo.team_id, metric) for slo in slos for metric, _ in _selectors(slo).values()}
    rows = Series.objects.filter(team_id__in={t for t, _ in wanted}, metric__in={m for _, m in wanted}).values_list(
        "id", "team_id", "metric", "labels"
    )
    by_key: dict[tuple[int, str], list[tuple[int, dict]]] = defaultdict(list)
    for sid, team_id, metric, labels in rows:
        by_key[(team_id, metric)].append((sid, labels))
    out = {}
    for slo in slos:
        roles = Roles()
        for role, (metric, matchers) in _selectors(slo).items():
            found = [sid for sid, labels in by_key[(slo.team_id, metric)] if matches(matchers, labels)]
            if role == "good" and slo.sli_kind == SLO.Kind.LATENCY:
                found = [sid for sid, labels in by_key[(slo.team_id, metric)] if _bucket_ok(slo, labels)]
            getattr(roles, role).extend(sorted(found))
        out[slo.id] = roles
    return out


def _bucket_ok(slo: SLO, labels: dict) -> bool:
    rest = {k: v for k, v in labels.items() if k != "le"}
    return _le_matches(labels, slo.latency_threshold) and matches(slo.matchers, rest)


@dataclass
class Grid:
    """Per-series minute arrays over [start, start + n minutes); NaN where no data."""

    start: datetime
    n: int
    sums: dict[int, np.ndarray] = field(default_factory=dict)
    last: dict[int, np.ndarray] = field(default_factory=dict)
    avg: dict[int, np.ndarray] = field(default_factory=dict)
    counts: dict[int, np.ndarray] = field(default_factory=dict)  # samples per minute (0 when none)

    def empty(self) -> np.ndarray:
        return np.full(self.n, np.nan)


def read_rollups(series_ids: list[int], start: datetime, end: datetime) -> Grid:
    """1-minute rollups of many series over [start, end) in one query, as minute arrays."""
    n = int((end - start).total_seconds() // 60)
    grid = Grid(start, n)
    if not series_ids or n <= 0:
        return grid
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT series_id, array_agg(((extract(epoch FROM bucket) - %(t0)s) / 60)::int ORDER BY bucket), "
            "array_agg(avg * count ORDER BY bucket), array_agg(last ORDER BY bucket), "
            "array_agg(avg ORDER BY bucket), array_agg(count ORDER BY bucket) "
            "FROM metrics_rollup_1m WHERE series_id = ANY(%(ids)s) AND bucket >= %(start)s AND bucket < %(end)s "
            "GROUP BY series_id",
            {"t0": start.timestamp(), "ids": list(series_ids), "start": start, "end": end},
        )
        for sid, idx, sums, last, avg, counts in cursor.fetchall():
            at = np.asarray(idx, dtype=np.int64)
            for target, values in ((grid.sums, sums), (grid.last, last), (grid.avg, avg)):
                arr = grid.empty()
                arr[at] = np.asarray(values, dtype=np.float64)
                target[sid] = arr
            c = np.zeros(n)
            c[at] = np.asarray(counts, dtype=np.float64)
            grid.counts[sid] = c
    return grid


def read_latency_samples(pairs: list[tuple[int, int, float]], start: datetime, end: datetime, n: int):
    """{(slo_id, series_id): (samples <= threshold, samples)} per minute, from raw samples."""
    out: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    if not pairs:
        return out
    slo_ids, sids, thresholds = (list(x) for x in zip(*pairs, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.slo, t.sid, ((extract(epoch FROM date_trunc('minute', s.ts)) - %(t0)s) / 60)::int, "
            "count(*) FILTER (WHERE s.value <= t.thr), count(*) "
            "FROM unnest(%(slos)s::bigint[], %(sids)s::bigint[], %(thr)s::float8[]) AS t(slo, sid, thr) "
            "JOIN metrics_sample s ON s.series_id = t.sid AND s.ts >= %(start)s AND s.ts < %(end)s "
            "GROUP BY 1, 2, 3",
            {"t0": start.timestamp(), "slos": slo_ids, "sids": sids, "thr": thresholds, "start": start, "end": end},
        )
        for slo_id, sid, minute, good, total in cursor.fetchall():
            key = (slo_id, sid)
            if key not in out:
                out[key] = (np.full(n, np.nan), np.full(n, np.nan))
            out[key][0][minute], out[key][1][minute] = good, total
    return out


def _events(slo: SLO, grid: Grid, ids: list[int]) -> list[np.ndarray]:
    if slo.counter_type == SLO.CounterType.DELTA:
        return [grid.sums.get(sid, grid.empty()) for sid in ids]
    return [calc.counter_increase(grid.last.get(sid, grid.empty())) for sid in ids]


def slo_minutes(slo: SLO, roles: Roles, grid: Grid, latency: dict) -> tuple[np.ndarray, np.ndarray]:
    """(good, total) per minute of the grid for one SLO."""
    n = grid.n
    if slo.sli_kind == SLO.Kind.AVAILABILITY:
        return calc.availability_minutes([grid.avg[s] for s in roles.values if s in grid.avg], n)
    if slo.sli_kind == SLO.Kind.THRESHOLD:
        avgs = [grid.avg[s] for s in roles.values if s in grid.avg]
        return calc.bound_minutes(avgs, n, slo.bound_op, slo.bound)
    if slo.sli_kind == SLO.Kind.LATENCY and slo.latency_source == SLO.LatencySource.SAMPLES:
        parts = [latency[(slo.id, s)] for s in roles.values if (slo.id, s) in latency]
        good = calc.sum_series([p[0] for p in parts], n)
        return calc.event_minutes(good, None, calc.sum_series([p[1] for p in parts], n))
    total = calc.sum_series(_events(slo, grid, roles.total), n)
    if slo.sli_kind == SLO.Kind.RATIO and slo.bad_metric:
        return calc.event_minutes(None, calc.sum_series(_events(slo, grid, roles.bad), n), total)
    return calc.event_minutes(calc.sum_series(_events(slo, grid, roles.good), n), None, total)


def _hour_rows(slo: SLO, roles: Roles, grid: Grid, latency: dict, start: datetime, end: datetime) -> list[SLOHour]:
    """SLOHour rows for the hours in [start, end) (start hour-aligned; minutes from end on are null)."""
    good, total = slo_minutes(slo, roles, grid, latency)
    offset = int((start - grid.start).total_seconds() // 60)
    good, total = good[offset:], total[offset:]
    counts = sum((grid.counts.get(s, np.zeros(grid.n)) for s in roles.all()), np.zeros(grid.n))[offset:]
    rows = []
    hours = int(np.ceil(len(total) / 60))
    pad = hours * 60 - len(total)
    good = np.concatenate([good, np.full(pad, np.nan)]).reshape(hours, 60)
    total = np.concatenate([total, np.full(pad, np.nan)]).reshape(hours, 60)
    counts = np.concatenate([counts, np.zeros(pad)]).reshape(hours, 60)
    if slo.sli_kind == SLO.Kind.LATENCY and slo.latency_source == SLO.LatencySource.SAMPLES:
        counts = np.nan_to_num(total, nan=0.0)
    for h in range(hours):
        present = ~np.isnan(total[h])
        rows.append(
            SLOHour(
                slo_id=slo.id,
                hour=start + HOUR * h,
                good=[float(x) if p else None for x, p in zip(good[h].tolist(), present.tolist(), strict=True)],
                total=[float(x) if p else None for x, p in zip(total[h].tolist(), present.tolist(), strict=True)],
                good_sum=float(good[h][present].sum()),
                total_sum=float(total[h][present].sum()),
                observed=int(present.sum()),
                samples=int(counts[h].sum()),
            )
        )
    return rows


def record_range(slos: list[SLO], start: datetime, end: datetime, *, roles: dict[int, Roles] | None = None) -> int:
    """Record the hours [hour_floor(start), end) of these SLOs with one rollup read."""
    if not slos or end <= start:
        return 0
    start = hour_floor(start)
    roles = roles or resolve_series(slos)
    ids = sorted({sid for slo in slos for sid in roles[slo.id].all()})
    grid = read_rollups(ids, start - LOOKBACK, end)
    pairs = [
        (slo.id, sid, slo.latency_threshold)
        for slo in slos
        if slo.sli_kind == SLO.Kind.LATENCY and slo.latency_source == SLO.LatencySource.SAMPLES
        for sid in roles[slo.id].values
    ]
    latency = read_latency_samples(pairs, grid.start, end, grid.n)
    rows = [row for slo in slos for row in _hour_rows(slo, roles[slo.id], grid, latency, start, end)]
    with transaction.atomic():
        SLOHour.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["slo", "hour"],
            update_fields=["good", "total", "good_sum", "total_sum", "observed", "samples"],
            batch_size=500,
        )
    return len(rows)


def record(slos: list[SLO], end: datetime) -> int:
    """Bring every SLO's recording up to `end`: new SLOs are backfilled, the others re-record
    from the hour before their last recording (late rollups of recent minutes land there)."""
    groups: dict[datetime, list[SLO]] = defaultdict(list)
    for slo in slos:
        if slo.recorded_through is None or slo.recorded_through > end:
            start = end - td(days=backfill_days())
        else:
            start = slo.recorded_through - td(minutes=5)
        groups[hour_floor(start)].append(slo)
    roles = resolve_series(slos)
    written = 0
    for start, group in sorted(groups.items()):
        written += record_range(group, start, end, roles=roles)
        SLO.objects.filter(id__in=[s.id for s in group]).update(recorded_through=end)
        for slo in group:
            slo.recorded_through = end
    return written


def recheck(slos: list[SLO], start: datetime, end: datetime) -> int:
    """Re-record hours whose source sample counts changed since they were recorded (late data),
    comparing with the 1-hour rollups. Returns the number of SLOs re-recorded."""
    roles = resolve_series(slos)
    pairs = [(slo.id, sid) for slo in slos for sid in roles[slo.id].all()]
    if not pairs:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH src AS (SELECT p.slo, r.bucket, sum(r.count) AS n "
            "FROM unnest(%(slos)s::bigint[], %(sids)s::bigint[]) AS p(slo, sid) "
            "JOIN metrics_rollup_1h r ON r.series_id = p.sid AND r.bucket >= %(start)s AND r.bucket < %(end)s "
            "GROUP BY 1, 2) "
            "SELECT src.slo, min(src.bucket), max(src.bucket) FROM src "
            "LEFT JOIN alerts_slohour h ON h.slo_id = src.slo AND h.hour = src.bucket "
            "WHERE h.samples IS DISTINCT FROM src.n GROUP BY src.slo",
            {"slos": [p[0] for p in pairs], "sids": [p[1] for p in pairs], "start": start, "end": end},
        )
        changed = cursor.fetchall()
    by_id = {slo.id: slo for slo in slos}
    for slo_id, first, last in changed:
        # A late sample also changes the first increase of the next hour (cumulative counters).
        record_range([by_id[slo_id]], first, min(last + 2 * HOUR, end), roles=roles)
    return len(changed)
