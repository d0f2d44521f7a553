"""Ingest queues at most one detection run per team at a time; the run takes every series that
received samples since, and samples after it started queue the next run."""

from __future__ import annotations

from django.utils import timezone

from core import fastredis
from forecasting.observability import detection_backlog
from forecasting.receivers import delay_key, detect_on_ingest, dirty_key, queued_key, since_key
from forecasting.tasks import detect_team


def test_batches_coalesce_into_one_run_per_team(team, monkeypatch):
    queued = []
    monkeypatch.setattr(
        detect_team,
        "apply_async",
        lambda args, eta, expires: queued.append((args, round((eta - timezone.now()).total_seconds()))),
    )
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


def test_the_backlog_is_stamped_by_ingest_and_reported_until_a_run_takes_it(team, storage_clean, monkeypatch):
    """The detection backlog gauges (/metrics): age of the oldest waiting samples, waiting series,
    and the delay of the last run from its oldest samples to its end."""
    monkeypatch.setattr(detect_team, "apply_async", lambda args, eta, expires: None)
    redis = fastredis.client()
    for pattern in ("detect:since:*", "detect:delay:*", "detect:dirty:*"):  # other tests' teams: the gauges are global
        for name in redis.scan_iter(match=fastredis.key(pattern)):
            redis.delete(name)
    detect_on_ingest(None, team_id=team.id, series={"m": [11, 12]})
    redis.set(since_key(team.id), float(redis.get(since_key(team.id))) - 30)  # as if 30 s ago
    detect_on_ingest(None, team_id=team.id, series={"m": [13]})  # keeps the older stamp
    backlog = detection_backlog()
    assert 30 <= backlog["seconds"] < 40
    assert backlog["series"] >= 3
    detect_team(team.id)
    assert not redis.exists(since_key(team.id))
    assert 30 <= float(redis.get(delay_key(team.id))) < 40
    assert detection_backlog()["last_run_delay"] >= 30
    redis.delete(delay_key(team.id))
