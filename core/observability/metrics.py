"""HiveOps' own Prometheus metrics, and the one-line hooks other modules call to update them.

Processes. daphne and the Celery worker processes are separate. When the environment variable
`PROMETHEUS_MULTIPROC_DIR` names a writable directory (set before any process starts, shared by
the processes on a host, emptied when they all start), prometheus_client's multiprocess mode
keeps each process's values in files there and `/metrics` adds them up: counters and histograms
summed over every process that ever ran since the directory was emptied, the WebSocket gauge over
live processes only. Without it each process counts only itself (tests, a single dev server).
Gauges that describe shared state (queue lengths, detection and forecast lag, heartbeat ages) are
computed at scrape time from Redis and PostgreSQL (`core/observability/collector.py`).
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from prometheus_client import Counter, Gauge, Histogram

INGEST_FORMATS = {"parse_json": "json", "parse_remote_write": "remote_write", "parse_remote_write_v2": "remote_write2"}
REJECT_REASONS = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    405: "method",
    413: "too_large",
    429: "rate_limited",
    503: "database_unavailable",
}

INGEST_SAMPLES = Counter("hiveops_ingest_samples", "Samples stored by ingest (duplicates excluded)", ["format"])
INGEST_DUPLICATES = Counter("hiveops_ingest_duplicate_samples", "Samples ingest received again", ["format"])
INGEST_BATCHES = Counter("hiveops_ingest_batches", "Ingest requests answered, accepted or not", ["format"])
INGEST_REJECTED = Counter("hiveops_ingest_rejected_batches", "Ingest requests refused", ["format", "reason"])
INGEST_SECONDS = Histogram(
    "hiveops_ingest_duration_seconds",
    "Time to answer an ingest request",
    ["format"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TASK_SECONDS = Histogram(
    "hiveops_task_duration_seconds",
    "Celery task run time",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900),
)
TASK_FAILURES = Counter("hiveops_task_failures", "Celery tasks that raised", ["task"])
DELIVERIES = Counter("hiveops_notification_deliveries", "Notification delivery attempts by outcome", ["kind", "result"])
WS_CONNECTIONS = Gauge("hiveops_websocket_connections", "Open live WebSocket connections", multiprocess_mode="livesum")
EXPORT_SAMPLES = Counter("hiveops_export_samples", "Samples written by series exports", ["format"])


def ingest_done(parse: Any, response: Any, seconds: float) -> None:
    """Count one answered ingest request (called by metrics/api.py)."""
    fmt = INGEST_FORMATS.get(getattr(parse, "__name__", ""), "other")
    INGEST_BATCHES.labels(format=fmt).inc()
    INGEST_SECONDS.labels(format=fmt).observe(seconds)
    status = response.status_code
    if status != 200:
        INGEST_REJECTED.labels(format=fmt, reason=REJECT_REASONS.get(status, str(status))).inc()
        return
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return
    INGEST_SAMPLES.labels(format=fmt).inc(body.get("accepted", 0))
    INGEST_DUPLICATES.labels(format=fmt).inc(body.get("duplicates", 0))


def delivery_done(notification: Any, result: str) -> None:
    """Count one delivery outcome: sent, failed, retrying, cancelled, digest_queued."""
    DELIVERIES.labels(kind=notification.kind, result=str(result)).inc()


def ws_opened(consumer: Any) -> None:
    consumer._metrics_counted = True
    WS_CONNECTIONS.inc()


def ws_closed(consumer: Any) -> None:
    if getattr(consumer, "_metrics_counted", False):
        consumer._metrics_counted = False
        WS_CONNECTIONS.dec()


_task_started: dict[str, float] = {}


def task_started(task_id: str | None) -> None:
    if task_id:
        _task_started[task_id] = time.monotonic()


def task_finished(task_id: str | None, task_name: str) -> None:
    started = _task_started.pop(task_id or "", None)
    if started is not None:
        TASK_SECONDS.labels(task=task_name).observe(time.monotonic() - started)


def task_failed(task_name: str) -> None:
    TASK_FAILURES.labels(task=task_name).inc()
