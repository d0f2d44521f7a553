"""Ingest queues at most one detection run per team at a time; the run takes every series that
received samples since, and samples after it started queue the next run."""

from __future__ import annotations

from core import fastredis
from forecasting.receivers import detect_on_ingest, dirty_key, queued_key
from forecasting.tasks import detect_team


def test_batches_coalesce_into_one_run_per_team(team, monkeypatch):
    queued = []
    monkeypatch.setattr(detect_team, "apply_async", lambda args, countdown: queued.append((args, countdown)))
    redis = fastredis.client()
    redis.delete(dirty_key(team.id), queued_key(team.id))
    for ids in ([1, 2], [2, 3], [4]):
        detect_on_ingest(None, team_id=team.id, series={"m": ids})
    assert queued == [((team.id,), 2)]
    assert sorted(int(i) for i in redis.smembers(dirty_key(team.id))) == [1, 2, 3, 4]
    redis.delete(dirty_key(team.id), queued_key(team.id))


def test_a_run_takes_the_set_and_frees_the_queue(team, storage_clean):
    redis = fastredis.client()
    redis.delete(dirty_key(team.id))
    redis.sadd(dirty_key(team.id), 7, 5)  # no such series: nothing to score, but the set is taken
    redis.set(queued_key(team.id), 1)
    assert detect_team(team.id) == "0 point(s) in 2 series"
    assert not redis.exists(dirty_key(team.id))
    assert not redis.exists(queued_key(team.id))  # the next ingest queues a new run
