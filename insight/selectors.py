"""Reads of the insight app: root-cause ranking for a window or an incident, recent changes,
similar past incidents and correlation matrices. Metric data comes only through
metrics.selectors, anomaly scores through forecasting.selectors; the maths is in
insight.algorithms."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import timedelta as td
from typing import TYPE_CHECKING

import numpy as np
from django.db.models import Q
from django.utils import timezone

from alerts.selectors import incident_alert_labels, incident_alerts, incidents_opened_since
from forecasting.selectors import scores_window
from insight import algorithms as alg
from insight.models import ChangeEvent
from metrics.selectors import buckets_many, samples_window, series_for_teams

if TYPE_CHECKING:
    from alerts.models import Incident
    from metrics.models import Series

STEP_S = 60
RAW_MAX_SPAN = td(hours=25)  # longer windows read the 1-minute rollups (see docs/insight.md)
BASELINE = td(hours=6)
AFTER = td(minutes=30)
MAX_LAG_MIN = 30
MIN_BASELINE_BUCKETS = 30
MAX_CANDIDATES = 2000
ANOMALY_TOP = 50  # anomaly rates are read for the best-ranked series only
CHANGES_BEFORE = td(hours=6)
SIMILAR_HORIZON = td(days=180)
SIMILAR_POOL = 500
VOLATILE_LABELS = {"dedup_key", "fingerprint"}


class AnalysisError(ValueError):
    """Bad input to an analysis: the API turns it into a 400 naming `field`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class Grid:
    start_s: int
    step_s: int
    source: str  # raw or 1m
    ids: list[int]
    values: np.ndarray  # (len(ids), buckets), NaN where empty


def grid_load(*, series_ids: list[int], start: datetime, end: datetime, step_s: int = STEP_S) -> Grid:
    """1-minute (or `step_s`) bucket averages of several series in [start, end), as one matrix.
    Raw samples for windows up to 25 h, the 1-minute rollups beyond."""
    start_s = int(start.timestamp()) // step_s * step_s
    n = max(1, -(-(int(end.timestamp()) - start_s) // step_s))
    if end - start <= RAW_MAX_SPAN:
        source, data = "raw", samples_window(series_ids=series_ids, start=start, end=end)
    else:
        source = "1m"
        data = buckets_many(series_ids=series_ids, start=start, end=end, step_s=step_s, source="1m")
    values = np.full((len(series_ids), n), np.nan)
    row_of = {sid: i for i, sid in enumerate(series_ids)}
    if data:
        rows = np.concatenate([np.full(len(ts), row_of[sid]) for sid, (ts, _) in data.items()])
        ts = np.concatenate([ts for ts, _ in data.values()])
        vals = np.concatenate([v for _, v in data.values()]).astype(float)
        idx = np.floor((ts - start_s) / step_s).astype(np.int64)
        keep = (idx >= 0) & (idx < n) & np.isfinite(vals)
        flat = rows[keep] * n + idx[keep]
        sums = np.bincount(flat, weights=vals[keep], minlength=len(series_ids) * n)
        counts = np.bincount(flat, minlength=len(series_ids) * n)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = (sums / counts).reshape(len(series_ids), n)
    return Grid(start_s=start_s, step_s=step_s, source=source, ids=list(series_ids), values=values)


@dataclass
class RootCause:
    start: datetime
    end: datetime
    at: datetime
    step_s: int
    source: str
    target: Series | None
    candidates: int
    skipped: int
    items: list[dict] = field(default_factory=list)
    target_values: list[float | None] | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "at": self.at,
            "step": self.step_s,
            "source": self.source,
            "target": _series_dict(self.target) if self.target else None,
            "target_values": self.target_values,
            "candidates": self.candidates,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "items": self.items,
        }


def rootcause(
    *,
    candidates: list[Series],
    start: datetime,
    end: datetime,
    at: datetime,
    target: Series | None = None,
    max_lag_min: int = MAX_LAG_MIN,
    limit: int = 10,
    with_values: bool = False,
) -> RootCause:
    """Rank `candidates` by how much they changed from `at − max_lag` on against the baseline
    before it, and (with a target) by how well their move lines up with the target's, leaders
    first. See insight.algorithms.rank_candidates."""
    began = time.perf_counter()
    ids = [s.id for s in candidates if target is None or s.id != target.id]
    by_id = {s.id: s for s in candidates}
    load_ids = ids + ([target.id] if target else [])
    grid = grid_load(series_ids=load_ids, start=start, end=end)
    split = int((at.timestamp() - max_lag_min * 60 - grid.start_s) // grid.step_s)
    values = grid.values[: len(ids)]
    usable = (np.isfinite(values[:, :split]).sum(axis=1) >= MIN_BASELINE_BUCKETS) & (
        np.isfinite(values[:, split:]).sum(axis=1) >= 1
    )
    target_row = grid.values[-1] if target else None
    if target_row is not None and not np.isfinite(target_row).any():
        target_row = None
    rows = np.flatnonzero(usable)
    filled = alg.fill_gaps(values[rows])
    result = RootCause(
        start=start,
        end=end,
        at=at,
        step_s=grid.step_s,
        source=grid.source,
        target=target,
        candidates=len(ids),
        skipped=len(ids) - len(rows),
    )
    if len(rows):
        ranking = alg.rank_candidates(
            filled,
            split=split,
            target=alg.fill_gaps(target_row[None, :])[0] if target_row is not None else None,
            max_lag=max_lag_min,
        )
        order = _with_anomalies(ranking, [ids[r] for r in rows], grid, split)
        for i in order[:limit]:
            sid = ids[rows[i]]
            result.items.append(_item(by_id[sid], ranking, i, target_row is not None, values[rows[i]], with_values))
    if with_values and target_row is not None:
        result.target_values = _plain(target_row)
    result.seconds = time.perf_counter() - began
    return result


def _with_anomalies(ranking: alg.Ranking, ids: list[int], grid: Grid, split: int) -> list[int]:
    """Re-rank the best `ANOMALY_TOP` with the anomaly-rate shift from the detector's scores."""
    top = list(ranking.order[:ANOMALY_TOP])
    start = datetime.fromtimestamp(grid.start_s, UTC)
    end = datetime.fromtimestamp(grid.start_s + grid.values.shape[1] * grid.step_s, UTC)
    scored = scores_window(series_ids=[ids[i] for i in top], start=start, end=end)
    if scored:
        split_ts = grid.start_s + split * grid.step_s
        found = [scored.get(ids[i]) for i in top]
        shift = alg.anomaly_rate_shift(
            [f["score"] if f else None for f in found], split_ts, [f["ts"] if f else None for f in found]
        )
        for i, extra in zip(top, shift, strict=True):
            ranking.anomaly[i] = extra
            ranking.score[i] += 0.2 * extra
        top.sort(key=lambda i: -ranking.score[i])
    return top + list(ranking.order[ANOMALY_TOP:])


def moved_text(lag: int | None) -> str | None:
    if lag is None:
        return None
    if lag == 0:
        return "moved in the same minute"
    return f"moved {abs(lag)} min {'before' if lag > 0 else 'after'}"


def _item(series: Series, ranking: alg.Ranking, i: int, has_target: bool, raw: np.ndarray, with_values: bool) -> dict:
    lag = int(ranking.lag[i]) if has_target else None
    item = {
        **_series_dict(series),
        "score": round(float(ranking.score[i]), 4),
        "change": {
            "surprise": round(float(ranking.change.surprise[i]), 3),
            "robust_z": round(float(ranking.change.robust_z[i]), 3),
            "ks": round(float(ranking.change.ks[i]), 3),
            "shift": float(ranking.change.shift[i]),
            "score": round(float(ranking.change.score[i]), 4),
        },
        "anomaly_rate_shift": round(float(ranking.anomaly[i]), 3),
        "correlation": round(float(ranking.corr[i]), 3) if has_target else None,
        "lag_minutes": lag,
        "moved": moved_text(lag),
    }
    if with_values:
        item["values"] = _plain(raw)
    return item


def _plain(row: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 6) for v in row]


def _series_dict(series: Series) -> dict:
    return {"series": str(series.uid), "name": str(series), "metric": series.metric, "labels": series.labels}


# Incidents


def incident_target(incident: Incident) -> tuple[Series | None, datetime]:
    """The series of the incident's first alert that has one, and when the incident started (the
    earliest alert's fired or first-seen time, else the incident's opening)."""
    alerts = incident_alerts(incident=incident)
    starts = [a.fired_at or a.first_seen for a in alerts] + [incident.opened_at]
    first = min(starts)
    target = next((a.series for a in alerts if a.series_id), None)
    return target, first


def related_for_incident(*, incident: Incident, limit: int = 8, now: datetime | None = None) -> dict:
    """Everything the incident page's "what else moved" panel shows."""
    now = now or timezone.now()
    target, at = incident_target(incident)
    end = min(now, at + AFTER)
    start = at - td(minutes=MAX_LAG_MIN) - BASELINE
    candidates = list(series_for_teams(team_ids=[incident.team_id]).order_by("id")[:MAX_CANDIDATES])
    result = rootcause(candidates=candidates, start=start, end=end, at=at, target=target, limit=limit, with_values=True)
    return {
        "incident": str(incident.uid),
        "analysis": result.as_dict(),
        "changes": [change_dict(c) for c in recent_changes(incident=incident, at=at)],
        "similar": similar_incidents(incident=incident),
    }


def recent_changes(*, incident: Incident, at: datetime | None = None, limit: int = 20) -> list[ChangeEvent]:
    """The team's change events from 6 h before the incident started to 30 min after: the
    incident's service's and those without a service (all of the team's when it has none)."""
    at = at or incident.opened_at
    qs = ChangeEvent.objects.filter(team_id=incident.team_id, at__gte=at - CHANGES_BEFORE, at__lte=at + AFTER)
    if incident.service_id:
        qs = qs.filter(Q(service_id=incident.service_id) | Q(service__isnull=True))
    return list(qs.select_related("service").order_by("-at", "-id")[:limit])


def change_dict(change: ChangeEvent) -> dict:
    return {
        "id": str(change.uid),
        "summary": change.summary,
        "at": change.at,
        "source": change.source,
        "service": change.service.slug if change.service else None,
        "via": change.via,
        "labels": change.labels,
        "links": change.links,
        "details": change.details,
    }


def changes_for_teams(*, team_ids: list[int]):
    return ChangeEvent.objects.filter(team_id__in=team_ids).select_related("service", "team")


def _alert_sets(incident_ids: list[int]) -> dict[int, tuple[set[str], set[str]]]:
    """Per incident: its alert names and its label pairs (k=v, without per-alert keys)."""
    sets: dict[int, tuple[set[str], set[str]]] = {i: (set(), set()) for i in incident_ids}
    for incident_id, labels, summary in incident_alert_labels(incident_ids=incident_ids):
        names, pairs = sets[incident_id]
        names.add(str(labels.get("alertname") or summary))
        pairs.update(f"{k}={v}" for k, v in labels.items() if k not in VOLATILE_LABELS)
    return sets


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def similar_incidents(*, incident: Incident, limit: int = 5) -> list[dict]:
    """Past incidents of the team like this one: score = 0.4·same service + 0.3·Jaccard of alert
    names + 0.3·Jaccard of label pairs; at least 0.25 to be listed; with how they were resolved."""
    since = incident.opened_at - SIMILAR_HORIZON
    pool = incidents_opened_since(incident=incident, since=since, limit=SIMILAR_POOL)
    sets = _alert_sets([incident.id] + [p.id for p in pool])
    names, pairs = sets[incident.id]
    scored = []
    for past in pool:
        past_names, past_pairs = sets[past.id]
        same_service = bool(incident.service_id and past.service_id == incident.service_id)
        score = 0.4 * same_service + 0.3 * jaccard(names, past_names) + 0.3 * jaccard(pairs, past_pairs)
        if score >= 0.25:
            scored.append((score, past, sorted(names & past_names)))
    scored.sort(key=lambda x: (-x[0], -x[1].opened_at.timestamp()))
    return [_similar_dict(score, past, shared) for score, past, shared in scored[:limit]]


def _similar_dict(score: float, past: Incident, shared: list[str]) -> dict:
    ttr = past.time_to_resolve
    return {
        "id": str(past.uid),
        "title": past.title,
        "opened_at": past.opened_at,
        "status": past.status,
        "service": past.service.slug if past.service else None,
        "similarity": round(score, 3),
        "shared_alerts": shared,
        "resolution_note": past.resolution_note,
        "root_cause": past.root_cause,
        "resolved_by": past.resolved_by.username if past.resolved_by else None,
        "time_to_resolve_s": int(ttr.total_seconds()) if ttr else None,
        "time_to_resolve": duration_text(ttr.total_seconds()) if ttr else None,
    }


def duration_text(seconds: float) -> str:
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


# Correlation matrices


def series_resolve(*, team_ids: list[int], items: object, field_name: str, limit: int) -> list[Series]:
    """Series named by uid strings or selectors {"metric": ..., "labels": {...}}, within the
    teams; AnalysisError naming the item when one is malformed or matches nothing."""
    if not isinstance(items, list) or not items:
        raise AnalysisError(field_name, "a non-empty list of series ids or {metric, labels} selectors")
    found: dict[int, Series] = {}
    base = series_for_teams(team_ids=team_ids)
    for i, item in enumerate(items):
        name = f"{field_name}[{i}]"
        if isinstance(item, str):
            matches = list(base.filter(uid=_uuid(item, name)))
        elif isinstance(item, dict) and isinstance(item.get("metric"), str) and item["metric"]:
            labels = item.get("labels") or {}
            if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
                raise AnalysisError(name, "labels must be an object of strings")
            matches = list(base.filter(metric=item["metric"], labels__contains=labels).order_by("id")[: limit + 1])
        else:
            raise AnalysisError(name, "a series id or {metric, labels}")
        if not matches:
            raise AnalysisError(name, "matches no series of your teams")
        found.update((s.id, s) for s in matches)
        if len(found) > limit:
            raise AnalysisError(field_name, f"more than {limit} series; narrow the selectors")
    return list(found.values())


def _uuid(value: str, name: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise AnalysisError(name, f"{value!r} is not a series id") from None


def correlations(
    *, rows: list[Series], cols: list[Series], start: datetime, end: datetime, max_lag_min: int, method: str
) -> dict:
    """Best lagged correlation and its lag for every (row, column) pair over [start, end)."""
    began = time.perf_counter()
    step_s = STEP_S if end - start <= td(days=2) else 300
    ids = list(dict.fromkeys([s.id for s in rows] + [s.id for s in cols]))
    grid = grid_load(series_ids=ids, start=start, end=end, step_s=step_s)
    at = {sid: i for i, sid in enumerate(ids)}
    filled = alg.fill_gaps(grid.values)
    empty = ~np.isfinite(filled).all(axis=1)
    filled[empty] = 0.0
    row_m = filled[[at[s.id] for s in rows]]
    col_m = filled[[at[s.id] for s in cols]]
    max_lag = max(0, min(max_lag_min * 60 // step_s, grid.values.shape[1] - 1))
    corr, lag = alg.correlation_matrix(row_m, col_m, max_lag=max_lag, method=method)
    no_data = {ids[i] for i in np.flatnonzero(empty)}
    corr_out = [
        [None if (r.id in no_data or c.id in no_data) else round(float(corr[i, j]), 4) for j, c in enumerate(cols)]
        for i, r in enumerate(rows)
    ]
    return {
        "start": start,
        "end": end,
        "step": step_s,
        "source": grid.source,
        "method": method,
        "max_lag_minutes": max_lag * step_s // 60,
        "rows": [_series_dict(s) for s in rows],
        "columns": [_series_dict(s) for s in cols],
        "correlation": corr_out,
        "lag_minutes": (lag * step_s // 60).tolist(),
        "seconds": round(time.perf_counter() - began, 3),
    }
