"""Capacity writes: analyse resources (time to exhaustion, right-sizing), store the result, run
fleet analyses with progress, and compare scenarios. The maths is in calculations.py."""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td
from functools import partial

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from threadpoolctl import threadpool_limits

from capacity import calculations as calc
from capacity.models import Analysis, AnalysisChunk, AnalysisRun, Resource
from capacity.selectors import history_days, history_many
from core.queue import enqueue

logger = logging.getLogger(__name__)
CHUNK = 100
FLEET_MIN_GAP = td(minutes=50)  # a scheduled run this recent means another beat already started one
RUN_LOCK_KEY = 0x48495643  # pg_advisory_xact_lock key of starting a scheduled run ("HIVC")
BAND_POINTS = 240
P95_DAYS = 14


@dataclass
class Computed:
    """One resource analysed: the fit, its exhaustion and the recommendation (None: no fit)."""

    resource: Resource
    now: datetime
    horizon_days: int
    fit: calc.Fit | None
    exhaustion: calc.Exhaustion | None = None
    recommendation: calc.Recommendation | None = None
    p95: float | None = None
    status: str = Analysis.Status.OK
    message: str = ""


def compute(resource: Resource, ts: np.ndarray, values: np.ndarray, *, now: datetime, horizon_days=None) -> Computed:
    horizon = int(horizon_days or resource.horizon_days)
    if len(ts) == 0:
        return Computed(resource, now, horizon, None, status=Analysis.Status.NO_DATA, message="no data in the series")
    days = max(horizon, resource.window_days)
    shortfall = calc.history_shortfall(ts)
    fit = None
    if shortfall is None:
        fit = calc.fit_growth(ts, values, now=now.timestamp(), days=days, limit=resource.limit, seed=resource.id or 0)
    if fit is None:
        message = shortfall or f"{len(ts)} hourly point(s) leave too little to fit after the last change"
        return Computed(resource, now, horizon, None, status=Analysis.Status.INSUFFICIENT, message=message)
    recent = values[ts >= now.timestamp() - P95_DAYS * 86400]
    p95 = calc.utilization_p95(recent, resource.capacity)
    return Computed(
        resource,
        now,
        horizon,
        fit,
        exhaustion=calc.exhaustion(fit, limit=resource.limit, horizon_days=horizon),
        recommendation=calc.recommend(fit, resource.sizing(), p95_utilization=p95),
        p95=p95,
    )


def band(fit: calc.Fit, days: float) -> dict:
    """The forecast for the chart: point fit and p10–p90 of the bootstrap paths, ≤ BAND_POINTS."""
    keep = np.flatnonzero(fit.times <= fit.times[0] + days * 86400 + 1)
    pick = np.unique(np.linspace(0, keep[-1], min(BAND_POINTS, len(keep))).round().astype(int))
    lo, hi = np.quantile(fit.paths[:, pick], [0.1, 0.9], axis=0)
    return {
        "times": fit.times[pick].tolist(),
        "mean": np.round(fit.mean[pick], 6).tolist(),
        "lo": np.round(lo, 6).tolist(),
        "hi": np.round(hi, 6).tolist(),
    }


def analysis_of(c: Computed) -> Analysis:
    """The row to store for a computed resource."""
    a = Analysis(resource=c.resource, computed_at=c.now, horizon_days=c.horizon_days, status=c.status)
    a.message = c.message
    if c.fit is None:
        return a
    ex, rec, fit = c.exhaustion, c.recommendation, c.fit
    peak = rec.evidence["forecast_peak_utilization"]
    a.exhausted, a.probability = ex.now, ex.probability
    a.tte_p10_s, a.tte_p50_s, a.tte_p90_s = ex.p10, ex.p50, ex.p90
    a.eta = calc.describe_eta(ex)
    a.model = fit.model
    a.current_value = fit.level
    a.utilization = fit.level / c.resource.capacity
    a.p95_utilization = c.p95
    a.peak_utilization = peak["p90"]
    a.growth_per_day = fit.growth_per_day
    a.action, a.new_allocation = rec.action, rec.new_allocation
    a.monthly_cost_change = round(rec.monthly_cost_change, 2)
    a.confidence, a.reason = rec.confidence, rec.reason[:400]
    a.risk = calc.risk_score(ex, peak["p90"])
    label, why = calc.range_confidence(fit, ex)
    a.details = {
        "range": {"confidence": label, "reason": why},
        "period_days": fit.period_days,
        "rate_change_at": fit.rate_change_at,
        "changes": [{"ts": ch.ts, "kind": ch.kind, "size": ch.size} for ch in fit.changes],
        "segment_start": fit.segment_start,
        "pooled_segments": fit.pooled,
        "weights": fit.weights,
        "points": fit.points,
        "history_days": fit.history_days,
        "last_ts": fit.last_ts,
        "residual_sd": fit.residual_sd,
        "evidence": rec.evidence,
        "band": band(fit, max(c.horizon_days, c.resource.window_days)),
    }
    return a


def one_blas_thread():
    """The fits are many small matrix products: OpenBLAS threads only contend on them (measured
    8× slower per resource with 2 threads on a busy 2-core machine)."""
    return threadpool_limits(limits=1, user_api="blas")


def analysed(resource: Resource, data: dict, now: datetime) -> Analysis:
    ts, values = data.get(resource.series_id, (np.empty(0), np.empty(0)))
    try:
        return analysis_of(compute(resource, ts, values, now=now))
    except Exception as exc:  # one odd resource must not stop the fleet
        logger.exception("capacity analysis of resource %s failed", resource.id)
        return Analysis(resource=resource, computed_at=now, status=Analysis.Status.FAILED, message=str(exc)[:300])


STORED = [f.name for f in Analysis._meta.concrete_fields if f.name != "resource"]


def analyses_refresh(
    *,
    resources: Iterable[Resource],
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    processes: int | None = None,
) -> tuple[int, int]:
    """Analyse resources in chunks (one history query per chunk) and store the results.
    With `processes` > 1 (default HIVEOPS_CAPACITY_PROCESSES) and more than one chunk, the
    chunks' maths runs in that many forked processes while this one reads the next chunks and
    stores the finished ones. `progress(done, failed)` is called after each chunk. Returns
    (analysed, failed)."""
    now = now or timezone.now()
    resources = [r for r in resources if r.enabled]
    chunks = [resources[i : i + CHUNK] for i in range(0, len(resources), CHUNK)]
    processes = settings.HIVEOPS_CAPACITY_PROCESSES if processes is None else processes
    done = failed = 0
    pending: deque[Future] = deque()
    with fleet_pool(processes if len(chunks) > 1 else 1) as pool:
        for index, chunk in enumerate(chunks):
            data = history_many(series_ids=[r.series_id for r in chunk if r.series_id], end=now, days=history_days())
            pending.append(chunk_submit(pool, chunk, data, now))
            while pending and (len(pending) > max(1, processes) or index == len(chunks) - 1):
                ok, bad = analyses_store(pending.popleft().result())
                done, failed = done + ok, failed + bad
                if progress is not None:
                    progress(done, failed)
    return done, failed


def analyses_store(rows: list[Analysis]) -> tuple[int, int]:
    """Write a chunk's analyses (one upsert); returns (analysed, failed)."""
    Analysis.objects.bulk_create(rows, update_conflicts=True, unique_fields=["resource"], update_fields=STORED)
    bad = sum(row.status == Analysis.Status.FAILED for row in rows)
    return len(rows) - bad, bad


def chunk_analysed(chunk: list[Resource], data: dict, now: datetime) -> list[Analysis]:
    """A chunk's analyses (unsaved): pure maths, run in a pool process or in this one."""
    with one_blas_thread():
        return [analysed(resource, data, now) for resource in chunk]


def chunk_submit(pool: ProcessPoolExecutor | None, chunk: list[Resource], data: dict, now: datetime) -> Future:
    if pool is not None:
        try:
            return pool.submit(chunk_analysed, chunk, data, now)
        except (OSError, AssertionError, BrokenExecutor):  # e.g. "daemonic processes are not allowed to have children"
            logger.warning("capacity: the process pool refused work, analysing in this process", exc_info=True)
    future: Future = Future()
    future.set_result(chunk_analysed(chunk, data, now))
    return future


@contextmanager
def fleet_pool(processes: int):
    """Forked processes for the maths (they inherit the loaded app and never touch the database:
    reads and writes stay here), or None for one process. Where a process may not start
    children (a daemonic worker process), `chunk_submit` runs the chunk here instead."""
    if processes <= 1 or multiprocessing.current_process().daemon:
        yield None
        return
    pool = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("fork"))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def analysis_fresh(*, resource: Resource, now: datetime | None = None) -> Analysis:
    """A fresh analysis of one resource with its current settings (a horizon changed for this
    answer only is used), not stored: the same row the hourly run stores, so the API answers
    both with one schema."""
    now = now or timezone.now()
    data = history_many(series_ids=[resource.series_id], end=now, days=history_days()) if resource.series_id else {}
    ts, values = data.get(resource.series_id, (np.empty(0), np.empty(0)))
    with one_blas_thread():
        return analysis_of(compute(resource, ts, values, now=now))


def run_create(*, team=None, user=None) -> AnalysisRun:
    """Queue an analysis of a team's resources (or of every team's), after commit."""
    resources = Resource.objects.filter(enabled=True)
    if team is not None:
        resources = resources.filter(team=team)
    run = AnalysisRun.objects.create(team=team, total=resources.count(), requested_by=user)
    transaction.on_commit(partial(enqueue, "capacity.tasks.analyse_run", run.id))
    return run


def run_execute(*, run: AnalysisRun) -> AnalysisRun:
    """Analyse the run's resources, recording progress after each chunk."""
    claimed = AnalysisRun.objects.filter(pk=run.pk, status=AnalysisRun.Status.QUEUED).update(
        status=AnalysisRun.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return run  # another worker has it, or it is finished
    resources = Resource.objects.filter(enabled=True).order_by("id")
    if run.team_id is not None:
        resources = resources.filter(team_id=run.team_id)
    resources = list(resources)
    started = time.perf_counter()
    AnalysisRun.objects.filter(pk=run.pk).update(total=len(resources))

    def progress(done: int, failed: int) -> None:
        AnalysisRun.objects.filter(pk=run.pk).update(done=done + failed, failed=failed)

    try:
        analyses_refresh(resources=resources, progress=progress)
        status = AnalysisRun.Status.DONE
    except Exception:
        logger.exception("capacity run %s failed", run.pk)
        status = AnalysisRun.Status.FAILED
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=status, finished_at=timezone.now(), duration_s=time.perf_counter() - started
    )
    run.refresh_from_db()
    return run


def fleet_run_start(*, now: datetime | None = None, width: int | None = None) -> AnalysisRun | None:
    """The hourly run: one scheduled AnalysisRun split into chunks of HIVEOPS_CAPACITY_RUN_CHUNK resources, each
    analysed by a `capacity.tasks.analyse_chunk` task. `width` (default HIVEOPS_CAPACITY_PROCESSES)
    chunks are queued at once and each finished chunk queues the next, so the worker's processes
    share the maths and other tasks wait behind one chunk at most. None when a scheduled run
    started less than FLEET_MIN_GAP ago (a second beat); a still-running older one is closed as
    failed (its lost chunks are redone by this run)."""
    now = now or timezone.now()
    width = settings.HIVEOPS_CAPACITY_PROCESSES if width is None else width
    ids = list(Resource.objects.filter(enabled=True).order_by("id").values_list("id", flat=True))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RUN_LOCK_KEY])
        previous = AnalysisRun.objects.filter(scheduled=True).order_by("-created_at").first()
        if previous is not None and previous.created_at > now - FLEET_MIN_GAP:
            return None
        if previous is not None and previous.status == AnalysisRun.Status.RUNNING:
            logger.warning("capacity run %s did not finish within the hour: %s", previous.uid, previous)
            run_close(run=previous, status=AnalysisRun.Status.FAILED, at=now)
        run = AnalysisRun.objects.create(
            scheduled=True, status=AnalysisRun.Status.RUNNING, total=len(ids), created_at=now, started_at=now
        )
        size = max(1, settings.HIVEOPS_CAPACITY_RUN_CHUNK)
        parts = [ids[i : i + size] for i in range(0, len(ids), size)]
        AnalysisChunk.objects.bulk_create(
            [AnalysisChunk(run=run, index=i, resource_ids=part) for i, part in enumerate(parts)]
        )
        if not parts:
            run_close(run=run, status=AnalysisRun.Status.DONE, at=now)
        for _ in range(max(1, width)):
            chunk_queue_next(run_id=run.id)
    return run


def run_close(*, run: AnalysisRun, status: str, at: datetime) -> None:
    run.status, run.finished_at = status, at
    run.duration_s = (at - run.started_at).total_seconds() if run.started_at else None
    run.save(update_fields=["status", "finished_at", "duration_s"])


def chunk_queue_next(*, run_id: int) -> AnalysisChunk | None:
    """Queue the run's next pending chunk (after commit); None when none is left."""
    with transaction.atomic():
        pending = AnalysisChunk.objects.filter(run_id=run_id, status=AnalysisChunk.Status.PENDING)
        chunk = pending.order_by("index").select_for_update(skip_locked=True).first()
        if chunk is None:
            return None
        chunk.status, chunk.queued_at = AnalysisChunk.Status.QUEUED, timezone.now()
        chunk.save(update_fields=["status", "queued_at"])
        transaction.on_commit(partial(enqueue, "capacity.tasks.analyse_chunk", chunk.id))
    return chunk


def chunk_analyse(*, chunk_id: int) -> str:
    """Analyse one chunk of a scheduled run in this process and count it once: storing is an
    upsert, so a chunk delivered twice (a worker lost mid-chunk, acks_late) costs time, not
    correctness. The run's last chunk closes it; every other queues the next pending one."""
    chunk = AnalysisChunk.objects.select_related("run").filter(pk=chunk_id).first()
    if chunk is None or chunk.status == AnalysisChunk.Status.DONE:
        return "chunk gone or done"
    if chunk.run.status != AnalysisRun.Status.RUNNING:
        return f"run {chunk.run.uid} is {chunk.run.status}"
    resources = Resource.objects.filter(pk__in=chunk.resource_ids, enabled=True).select_related("series")
    resources = list(resources.order_by("id"))
    done, failed = analyses_refresh(resources=resources, processes=1)
    with transaction.atomic():
        run = AnalysisRun.objects.select_for_update().get(pk=chunk.run_id)  # one chunk counts at a time
        counted = (
            AnalysisChunk.objects.filter(pk=chunk.pk)
            .exclude(status=AnalysisChunk.Status.DONE)
            .update(status=AnalysisChunk.Status.DONE, done=done, failed=failed, finished_at=timezone.now())
        )
        if not counted:
            return f"chunk {chunk.index}: analysed again, counted before"
        gone = len(chunk.resource_ids) - len(resources)  # deleted or disabled since the run started
        AnalysisRun.objects.filter(pk=run.pk).update(
            done=F("done") + done + failed, failed=F("failed") + failed, total=F("total") - gone
        )
        if AnalysisChunk.objects.filter(run=run).exclude(status=AnalysisChunk.Status.DONE).exists():
            chunk_queue_next(run_id=run.id)
        elif run.status == AnalysisRun.Status.RUNNING:
            run_close(run=run, status=AnalysisRun.Status.DONE, at=timezone.now())
    return f"chunk {chunk.index}: {done} analysed, {failed} failed"


def scenarios_compare(*, resource: Resource, scenarios: list[calc.Scenario], now: datetime | None = None) -> dict:
    """The baseline and each scenario side by side: time to exhaustion, forecast peak and sizing."""
    now = now or timezone.now()
    data = history_many(series_ids=[resource.series_id], end=now, days=history_days()) if resource.series_id else {}
    ts, values = data.get(resource.series_id, (np.empty(0), np.empty(0)))
    with one_blas_thread():
        c = compute(resource, ts, values, now=now)
    if c.fit is None:
        return {"status": c.status, "message": c.message, "scenarios": []}
    sizing = resource.sizing()
    with one_blas_thread():
        columns = [scenario_column(c, s, sizing) for s in [calc.Scenario(), *scenarios]]
    return {"status": c.status, "message": "", "computed_at": now, "scenarios": columns}


def scenario_column(c: Computed, scenario: calc.Scenario, sizing: calc.Sizing) -> dict:
    fit = c.fit
    factor = calc.scenario_factor(fit.times, scenario)
    scale = calc.allocation_scale(sizing, scenario.added_allocation)
    ex = calc.exhaustion(fit, limit=sizing.limit, horizon_days=c.horizon_days, factor=factor, limit_scale=scale)
    rec = calc.recommend(fit, sizing, p95_utilization=c.p95, scenario=scenario)
    added_cost = scenario.added_allocation * sizing.unit_cost if sizing.allocation else 0.0
    return {
        "name": scenario.name,
        "growth_pct_per_month": scenario.growth_pct_per_month,
        "event_at": scenario.event_at,
        "event_days": scenario.event_days,
        "event_multiplier": scenario.event_multiplier,
        "added_allocation": scenario.added_allocation,
        "exhausted": ex.now,
        "tte_days": {q: ex.days(q) for q in ("p10", "p50", "p90")},
        "probability": ex.probability,
        "eta": calc.describe_eta(ex),
        "peak_utilization": rec.evidence["forecast_peak_utilization"]["p90"],
        "allocation": rec.allocation,
        "action": rec.action,
        "new_allocation": rec.new_allocation,
        "monthly_cost_change": round(added_cost + rec.monthly_cost_change, 2),
        "reason": rec.reason,
    }


def stale_before(now: datetime) -> datetime:
    return now - td(hours=3)
