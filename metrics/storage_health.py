"""Storage gauges for /metrics: rollup marks waiting for the refresh (both layouts) and the health
of TimescaleDB's background jobs (absent on the plain layout).

A job that keeps failing is a warning, not unreadiness: on PostgreSQL 15.20 with TimescaleDB
2.28.3 every job run is recorded as failed after doing its work ("cannot drop portal"), and the
touched-hours refresh does not depend on the jobs (docs/deployment.md, "TimescaleDB").
"""

from __future__ import annotations

import logging

from django.db import connection
from prometheus_client.core import GaugeMetricFamily

from metrics import storage, timescale

logger = logging.getLogger(__name__)

JOB_LABELS = ["job_id", "proc", "relation"]


def _job_families(jobs: list[timescale.JobHealth]) -> list[GaugeMetricFamily]:
    last_run = GaugeMetricFamily(
        "hiveops_timescaledb_job_last_run_timestamp_seconds", "When a TimescaleDB job last started", labels=JOB_LABELS
    )
    last_success = GaugeMetricFamily(
        "hiveops_timescaledb_job_last_success_timestamp_seconds",
        "When a TimescaleDB job last finished successfully",
        labels=JOB_LABELS,
    )
    ok = GaugeMetricFamily(
        "hiveops_timescaledb_job_last_run_ok", "1 when the job's last run succeeded, else 0", labels=JOB_LABELS
    )
    failures = GaugeMetricFamily(
        "hiveops_timescaledb_job_failures", "Failed runs of a TimescaleDB job since it was created", labels=JOB_LABELS
    )
    for job in jobs:
        labels = [str(job.job_id), job.proc, job.relation]
        if job.last_run is not None:
            last_run.add_metric(labels, job.last_run.timestamp())
        if job.last_success is not None:
            last_success.add_metric(labels, job.last_success.timestamp())
        if job.last_status is not None:
            ok.add_metric(labels, 1.0 if job.last_status == "Success" else 0.0)
        failures.add_metric(labels, job.failures)
    return [last_run, last_success, ok, failures]


class StorageCollector:
    def collect(self):
        try:
            with connection.cursor() as cursor:
                pending = storage.rollups_pending(cursor)
                jobs = timescale.jobs_health(cursor)
        except Exception:  # database down (or not allowed, in tests): the rest of the page still helps
            logger.warning("scrape: storage gauges not computed", exc_info=True)
            return
        gauge = GaugeMetricFamily(
            "hiveops_rollup_pending_marks",
            "(series, hour) marks written by ingest and not yet refreshed into the rollups",
        )
        gauge.add_metric([], pending)
        yield gauge
        if jobs:
            yield from _job_families(jobs)
