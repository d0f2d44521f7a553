"""Writes to metric storage: the ingest hot path, rollup refresh and retention."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import timedelta as td

import numpy as np
import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from metrics import storage, timescale
from metrics.ingest import Batch, ParsedSeries
from metrics.signals import samples_ingested

logger = logging.getLogger(__name__)

PG_EPOCH_OFFSET_US = 946_684_800_000_000  # 2000-01-01 in Unix microseconds (binary COPY epoch)
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
COPY_ROW = np.dtype(
    [("n", ">i2"), ("l1", ">i4"), ("sid", ">i8"), ("l2", ">i4"), ("ts", ">i8"), ("l3", ">i4"), ("v", ">f8")]
)
DIRTY_ROW = np.dtype([("n", ">i2"), ("l1", ">i4"), ("sid", ">i8"), ("l2", ">i4"), ("ts", ">i8")])
DEADLOCK_RETRIES = 3


@dataclass(frozen=True, slots=True)
class IngestResult:
    accepted: int
    duplicates: int
    series: int
    skipped: int = 0

    def as_dict(self) -> dict:
        body = {"accepted": self.accepted, "duplicates": self.duplicates, "series": self.series}
        if self.skipped:
            body["skipped"] = self.skipped
        return body


class SeriesCache:
    """Process-local map of (team, metric, canonical labels) -> series id, bounded in size.

    Entries are added only after the transaction that created or read them commits.
    """

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.ids: dict[tuple[int, str, str], int] = {}

    def get(self, key: tuple[int, str, str]) -> int | None:
        return self.ids.get(key)

    def update(self, entries: dict[tuple[int, str, str], int]) -> None:
        if len(self.ids) + len(entries) > self.max_size:
            # Drop the oldest half: dicts keep insertion order.
            for key in list(self.ids)[: len(self.ids) // 2]:
                del self.ids[key]
        self.ids.update(entries)

    def clear(self) -> None:
        self.ids.clear()


series_cache = SeriesCache(settings.HIVEOPS_SERIES_CACHE_SIZE)

SERIES_INSERT_SQL = """
INSERT INTO metrics_series (uid, team_id, metric, labels, unit, created_at)
SELECT gen_random_uuid(), %s, x.m, x.l::jsonb, x.u, now()
FROM unnest(%s::text[], %s::text[], %s::text[]) AS x(m, l, u)
ON CONFLICT (team_id, metric, labels) DO NOTHING
"""
SERIES_LOOKUP_SQL = """
SELECT x.ord, s.id
FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS x(m, l, ord)
JOIN metrics_series s ON s.team_id = %s AND s.metric = x.m AND s.labels = x.l::jsonb
"""


def series_resolve(cursor, *, team_id: int, series: list[ParsedSeries]) -> list[int]:
    """Series ids for the batch, creating the missing series (in the caller's transaction)."""
    keys = [(team_id, s.metric, s.labels_key) for s in series]
    ids = [series_cache.get(key) for key in keys]
    missing = sorted({(key, s.unit) for key, s, sid in zip(keys, series, ids, strict=True) if sid is None})
    if missing:
        # Sorted, so concurrent batches creating the same series lock them in the same order.
        metrics = [key[1] for key, _ in missing]
        labels = [key[2] for key, _ in missing]
        cursor.execute(SERIES_INSERT_SQL, [team_id, metrics, labels, [unit for _, unit in missing]])
        cursor.execute(SERIES_LOOKUP_SQL, [metrics, labels, team_id])
        found = {(team_id, metrics[ord_ - 1], labels[ord_ - 1]): sid for ord_, sid in cursor.fetchall()}
        ids = [sid if sid is not None else found[key] for key, sid in zip(keys, ids, strict=True)]
        transaction.on_commit(lambda: series_cache.update(found))
    return ids


def copy_rows(series_ids: np.ndarray, ts_us: np.ndarray, values: np.ndarray) -> bytes:
    """The rows as one PostgreSQL binary COPY payload, built without a Python loop."""
    rows = np.empty(len(values), dtype=COPY_ROW)
    rows["n"] = 3
    rows["l1"] = rows["l2"] = rows["l3"] = 8
    rows["sid"] = series_ids
    rows["ts"] = ts_us - PG_EPOCH_OFFSET_US
    rows["v"] = values
    return COPY_HEADER + rows.tobytes() + COPY_TRAILER


def _flatten(ids: list[int], batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The batch's rows sorted by key with repeated points (same series, time and value; parsing
    refused different values) dropped: (series ids, times, values, how many were dropped)."""
    lengths = [len(s.values) for s in batch.series]
    sid = np.repeat(np.asarray(ids, dtype=np.int64), lengths)
    ts = np.concatenate([s.ts_us for s in batch.series])
    values = np.concatenate([s.values for s in batch.series])
    # Sorted by key: index-friendly, and concurrent overlapping batches lock rows in one order.
    order = np.lexsort((ts, sid))
    sid, ts, values = sid[order], ts[order], values[order]
    repeated = (sid[1:] == sid[:-1]) & (ts[1:] == ts[:-1])
    if not repeated.any():
        return sid, ts, values, 0
    keep = np.concatenate(([True], ~repeated))
    return sid[keep], ts[keep], values[keep], int(repeated.sum())


DAY_US = 86_400_000_000
_partitions: set[str] = set()


def _target_table(cursor, ts: np.ndarray) -> str:
    """The daily partition when the whole batch falls in one day (the usual case), else the
    parent. Writing into the partition skips tuple routing: measured 44 vs 76-88 ms per 10k
    rows with ON CONFLICT (docs/architecture.md). On TimescaleDB, the hypertable itself."""
    if storage.timescale_enabled():
        return "metrics_sample"
    first, last = int(ts[0] // DAY_US), int(ts[-1] // DAY_US)
    if first != last or int(ts.min() // DAY_US) != first or int(ts.max() // DAY_US) != first:
        return "metrics_sample"
    name = storage.RAW_PARTITION.format(day=datetime.fromtimestamp(first * 86_400, UTC))
    if name not in _partitions:
        _partitions.clear()
        _partitions.update(storage.existing_partitions(cursor))
    return name if name in _partitions else "metrics_sample"


def _cause(exc: Exception) -> Exception | None:
    """The psycopg error behind `exc`: Django wraps errors of `execute`, not those of `copy`."""
    return exc if isinstance(exc, psycopg.Error) else exc.__cause__


def _retryable(exc: Exception) -> bool:
    """Deadlocks between overlapping batches, and a partition dropped by retention meanwhile."""
    cause = _cause(exc)
    if isinstance(cause, psycopg.errors.UndefinedTable):
        _partitions.clear()
        return True
    return isinstance(cause, psycopg.errors.DeadlockDetected)


class DirectWrites:
    """When to try the direct COPY. A batch that repeats stored rows (a client's retry, an
    overlapping re-send) costs a wasted COPY before the idempotent path; after one, the team's
    next FALLBACK_BATCHES batches go the idempotent way at once, then COPY is tried again."""

    FALLBACK_BATCHES = 8

    def __init__(self) -> None:
        self.skip: dict[int, int] = {}

    def allowed(self, team_id: int) -> bool:
        left = self.skip.get(team_id)
        if not left:
            return True
        if left <= 1:
            del self.skip[team_id]
        else:
            self.skip[team_id] = left - 1
        return False

    def refused(self, team_id: int) -> None:
        self.skip[team_id] = self.FALLBACK_BATCHES


direct_writes = DirectWrites()


def _write_direct(cursor, sid: np.ndarray, ts: np.ndarray, values: np.ndarray) -> int:
    """COPY straight into the day's partition (or the hypertable). The primary key refuses a row
    that is already stored (psycopg UniqueViolation): the caller then rolls back and redoes the
    batch through `_write_idempotent`, so a retry never stores twice and the counts stay exact."""
    table = _target_table(cursor, ts)
    with cursor.copy(f"COPY {table} (series_id, ts, value) FROM STDIN (FORMAT binary)") as copy:
        copy.write(copy_rows(sid, ts, values))
    return len(values)


def _write_idempotent(cursor, sid: np.ndarray, ts: np.ndarray, values: np.ndarray) -> int:
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS ingest_stage "
        "(series_id bigint, ts timestamptz, value double precision) ON COMMIT DELETE ROWS"
    )
    # Empty even inside an enclosing transaction (two batches in one transaction, or tests).
    cursor.execute("TRUNCATE ingest_stage")
    with cursor.copy("COPY ingest_stage (series_id, ts, value) FROM STDIN (FORMAT binary)") as copy:
        copy.write(copy_rows(sid, ts, values))
    cursor.execute(
        f"INSERT INTO {_target_table(cursor, ts)} (series_id, ts, value) SELECT series_id, ts, value "
        "FROM ingest_stage ON CONFLICT (series_id, ts) DO NOTHING"
    )
    return cursor.rowcount


def _write(cursor, sid: np.ndarray, ts: np.ndarray, values: np.ndarray, *, direct: bool) -> int:
    inserted = (_write_direct if direct else _write_idempotent)(cursor, sid, ts, values)
    if inserted:  # both layouts: the refresh and query_range need the touched (series, hour) ranges
        storage.touched_record(cursor, sid=sid, ts_us=ts)
    return inserted


def _duplicate_rows(exc: Exception) -> bool:
    return isinstance(_cause(exc), psycopg.errors.UniqueViolation)


def samples_ingest(*, team_id: int, batch: Batch) -> IngestResult:
    """Write a validated batch all-or-nothing. Re-sending it inserts nothing (duplicates).

    New rows go in with one COPY into their partition; a batch that repeats stored rows is
    redone through a staging table and ON CONFLICT DO NOTHING (docs/architecture.md)."""
    if not batch.series:
        return IngestResult(accepted=0, duplicates=0, series=0, skipped=batch.skipped)
    direct = direct_writes.allowed(team_id)
    attempt = 1
    while True:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                ids = series_resolve(cursor, team_id=team_id, series=batch.series)
                sid, ts, values, repeated = _flatten(ids, batch)
                inserted = _write(cursor, sid, ts, values, direct=direct)
            break
        except (DatabaseError, psycopg.Error) as exc:
            if direct and _duplicate_rows(exc):
                direct = False
                direct_writes.refused(team_id)
                continue
            if attempt == DEADLOCK_RETRIES or not _retryable(exc):
                raise
            attempt += 1
            logger.info("ingest retried after %s (attempt %s)", type(_cause(exc)).__name__, attempt)
    if inserted:
        by_metric: dict[str, list[int]] = {}
        for parsed, sid_ in zip(batch.series, ids, strict=True):
            by_metric.setdefault(parsed.metric, []).append(sid_)
        for receiver, error in samples_ingested.send_robust(sender=IngestResult, team_id=team_id, series=by_metric):
            if isinstance(error, Exception):
                logger.error("samples_ingested receiver %s failed", receiver, exc_info=error)
    return IngestResult(
        accepted=inserted, duplicates=repeated + len(values) - inserted, series=len(set(ids)), skipped=batch.skipped
    )


def rollups_refresh(*, batch_size: int = 2000, max_batches: int | None = None) -> Iterator[tuple[int, int]]:
    """Drain the dirty-hours table; yields (hours done, hours pending) after each batch.

    On TimescaleDB the touched hours are refreshed in the continuous aggregates (outside any
    transaction; inside one, e.g. in a test, nothing is done and reads use raw samples)."""
    if storage.timescale_enabled():
        yield from _refresh_timescale(batch_size=batch_size, max_batches=max_batches)
        return
    done = 0
    with connection.cursor() as cursor:
        pending = storage.rollups_pending(cursor)
    batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic(), connection.cursor() as cursor:
            claimed, _, _ = storage.rollups_refresh_batch(cursor, limit=batch_size)
        if not claimed:
            break
        done += claimed
        batches += 1
        yield done, max(pending, done)


def _refresh_timescale(*, batch_size: int, max_batches: int | None) -> Iterator[tuple[int, int]]:
    done = batches = 0
    while max_batches is None or batches < max_batches:
        taken = timescale.refresh_touched(connection, limit=batch_size)
        if not taken:
            return
        done += taken
        batches += 1
        yield done, done


def storage_maintain(*, now: datetime | None = None) -> dict:
    """Create upcoming partitions and enforce retention. Safe to run from several workers."""
    now = now or datetime.now(UTC)
    raw_cutoff = now - td(days=settings.HIVEOPS_RETENTION_RAW_DAYS)
    rollup_cutoff = now - td(days=settings.HIVEOPS_RETENTION_ROLLUP_DAYS)
    with transaction.atomic(), connection.cursor() as cursor:
        if storage.timescale_enabled():
            cursor.execute("SELECT count(*) FROM drop_chunks('metrics_sample', older_than => %s)", [raw_cutoff])
            dropped_chunks = cursor.fetchone()[0]
            cursor.execute("DELETE FROM metrics_rollup_dirty WHERE hour < %s", [raw_cutoff - td(hours=1)])
            return {"layout": "timescaledb", "dropped_chunks": dropped_chunks}
        created = storage.partitions_ensure(cursor, days_back=0, days_ahead=3, now=now)
        dropped = storage.partitions_drop_before(cursor, cutoff=raw_cutoff)
        cursor.execute("DELETE FROM metrics_rollup_dirty WHERE hour < %s", [raw_cutoff - td(hours=1)])
        rollups_deleted = storage.rollups_delete_before(cursor, cutoff=rollup_cutoff)
    return {"layout": "partitions", "created": created, "dropped": dropped, "rollup_rows_deleted": rollups_deleted}
