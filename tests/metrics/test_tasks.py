from __future__ import annotations

import orjson

from metrics import storage, tasks
from metrics.ingest import parse_json
from metrics.services import samples_ingest
from tests.conftest import recent_points


def test_refresh_rollups_task_reports_its_work(team, storage_clean, plain_layout):
    """Plain only: on TimescaleDB the refresh needs autocommit (test_timescale.py runs it there)."""
    body = {"series": [{"metric": "m", "points": recent_points(3)}]}
    samples_ingest(team_id=team.id, batch=parse_json(orjson.dumps(body), max_points=10))
    assert tasks.refresh_rollups() in ("refreshed 1 series-hours", "refreshed 2 series-hours")
    assert tasks.refresh_rollups() == "refreshed 0 series-hours"


def test_maintain_storage_task_runs(db):
    assert ("timescaledb" if storage.timescale_enabled() else "partitions") in tasks.maintain_storage()


def test_beat_schedules_both_tasks(settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"metrics.tasks.refresh_rollups", "metrics.tasks.maintain_storage"} <= scheduled
