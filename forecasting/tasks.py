from __future__ import annotations

import time

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from core import fastredis
from forecasting.receivers import delay_key, dirty_key, queued_key, since_key
from forecasting.services import detection, forecasts, housekeeping

CHUNK = 500


@shared_task(acks_late=True)
def detect_series(series_ids: list[int]) -> str:
    """Score the new points of these series. Safe to run twice: the cursor moves with the scores."""
    report = detection.detect_series(series_ids=series_ids)
    return f"{report.points} point(s) in {report.series} series, {len(report.anomalies)} anomalies"


@shared_task(acks_late=True, bind=True)
def detect_team(self, team_id: int) -> str:
    """Score every series of the team that received samples since the last run (a Redis set the
    ingest fills). The set is moved, atomically, to a key of this task and deleted only when the
    scoring is done: a run that dies is redelivered with the same id and takes the same series
    again (the cursor makes that harmless)."""
    mine = fastredis.key(f"detect:taken:{team_id}:{self.request.id}")
    pipe = fastredis.client().pipeline(transaction=True)
    pipe.delete(queued_key(team_id))  # samples from now on queue the next run
    pipe.sunionstore(mine, [mine, dirty_key(team_id)])
    pipe.delete(dirty_key(team_id))
    pipe.expire(mine, 86400)  # a run lost for good: the sweep scores those series anyway
    pipe.smembers(mine)
    pipe.getdel(since_key(team_id))  # samples from now on start the next backlog
    *_, members, since = pipe.execute()
    ids = sorted(int(i) for i in members)
    points = 0
    for i in range(0, len(ids), CHUNK * 4):
        points += detection.detect_series(series_ids=ids[i : i + CHUNK * 4]).points
    pipe = fastredis.client().pipeline(transaction=False)
    pipe.delete(mine)
    if since is not None:  # from the first waiting sample's arrival to its scores
        pipe.set(delay_key(team_id), round(time.time() - float(since), 3), ex=86400)
    pipe.execute()
    return f"{points} point(s) in {len(ids)} series"


@shared_task(acks_late=True)
def detect_sweep() -> str:
    """Every 30 s: series with samples newer than their detector's cursor (missed or expired tasks)."""
    behind = detection.series_behind(now=timezone.now())
    for i in range(0, len(behind), CHUNK):
        detect_series.delay(behind[i : i + CHUNK])
    return f"{len(behind)} series behind"


@shared_task(acks_late=True)
def train_detectors() -> str:
    due = detection.detectors_due_training(now=timezone.now(), limit=settings.HIVEOPS_TRAIN_BATCH)
    for series_id in due:
        train_detector.delay(series_id)
    return f"queued {len(due)}"


@shared_task(acks_late=True)
def train_detector(series_id: int) -> str:
    return detection.detector_train(series_id=series_id)


@shared_task(acks_late=True)
def refresh_forecasts() -> str:
    """Every minute: claim stale forecasts and queue them in batches (workers split the batches)."""
    due = forecasts.series_due(now=timezone.now(), limit=settings.HIVEOPS_FORECAST_MAX_QUEUED)
    batch = settings.HIVEOPS_FORECAST_BATCH
    for i in range(0, len(due), batch):
        forecast_batch.delay(due[i : i + batch])
    return f"queued {len(due)}"


@shared_task(acks_late=True)
def forecast_batch(series_ids: list[int]) -> str:
    return f"{forecasts.forecasts_refresh(series_ids=series_ids)} forecast(s) refreshed"


@shared_task(acks_late=True)
def prune() -> str:
    return str(housekeeping.prune(now=timezone.now()))
