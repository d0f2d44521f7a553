from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import psycopg
import pytest
import time_machine
from django.db import connection

from forecasting.algorithms.detection import detector as detector_module
from forecasting.models import Anomaly, PointScore, SeriesDetector, TeamDetection
from forecasting.receivers import detect_on_ingest
from forecasting.services import detector_cache
from forecasting.services.detection import detect_series, detector_train, series_behind
from metrics.signals import samples_ingested
from tests.forecasting.synthetic import daily_cycle, send

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
NOW_S = int(NOW.timestamp())


def history(team, spike: float | None = None, hours: int = 96):
    ts, values = daily_cycle(NOW_S - hours * 3600, NOW_S + 1)
    if spike is not None:
        values[-3] += spike
    send(team, "latency", {"host": "a"}, ts, values)
    from metrics.models import Series

    return Series.objects.get(team=team, metric="latency"), ts, values


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _no_detection_on_ingest():
    """Score explicitly in these tests, not from the ingest signal."""
    samples_ingested.disconnect(detect_on_ingest)
    yield
    samples_ingested.connect(detect_on_ingest)


def test_it_scores_every_new_point_once_and_records_the_spike(storage_clean, team, frozen):
    series, ts, _ = history(team, spike=60.0)
    report = detect_series(series_ids=[series.id])
    assert report.points == len(ts)
    assert PointScore.objects.filter(series=series).count() == len(ts)
    detector = SeriesDetector.objects.get(series=series)
    assert detector.last_ts.timestamp() == ts[-1]
    assert detector.points == len(ts)
    spike_at = datetime.fromtimestamp(int(ts[-3]), UTC)
    anomaly = Anomaly.objects.get(series=series, ts=spike_at)
    assert anomaly.kind == "spike"
    assert anomaly.upper is not None
    assert anomaly.value > anomaly.upper
    # The quiet part of the day is not an anomaly.
    assert Anomaly.objects.filter(series=series, ts__lt=spike_at).count() <= 2
    again = detect_series(series_ids=[series.id])
    assert again.points == 0
    assert PointScore.objects.filter(series=series).count() == len(ts)


def test_scoring_in_two_runs_equals_one_run(storage_clean, team):
    with time_machine.travel(NOW, tick=False):
        series, ts, _ = history(team)
    split = datetime.fromtimestamp(int(ts[len(ts) // 2]), UTC)
    with time_machine.travel(split, tick=False):
        first = detect_series(series_ids=[series.id])
    with time_machine.travel(NOW, tick=False):
        second = detect_series(series_ids=[series.id])
    assert first.points + second.points == len(ts)
    resumed = list(PointScore.objects.filter(series=series).order_by("ts").values_list("score", flat=True))
    PointScore.objects.filter(series=series).delete()
    SeriesDetector.objects.filter(series=series).delete()
    with time_machine.travel(NOW, tick=False):
        detect_series(series_ids=[series.id])
    straight = list(PointScore.objects.filter(series=series).order_by("ts").values_list("score", flat=True))
    np.testing.assert_allclose(resumed, straight, rtol=0, atol=1e-12)


def test_it_skips_series_another_worker_is_scoring(storage_clean, team, frozen, transactional_db):
    series, _, _ = history(team)
    SeriesDetector.objects.create(series=series)
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}) as other:
        other.execute("SELECT 1 FROM forecasting_seriesdetector WHERE series_id = %s FOR UPDATE", [series.id])
        report = detect_series(series_ids=[series.id])
    assert report.skipped == 1
    assert report.points == 0
    assert detect_series(series_ids=[series.id]).points > 0


def test_a_team_with_detection_off_is_not_scored(storage_clean, team, frozen):
    series, _, _ = history(team)
    TeamDetection.objects.create(team=team, enabled=False)
    assert detect_series(series_ids=[series.id]).points == 0
    assert series_behind(now=NOW) == []


def test_the_sweep_finds_series_behind_their_cursor(storage_clean, team, frozen):
    series, _, _ = history(team)
    assert series_behind(now=NOW) == [series.id]
    detect_series(series_ids=[series.id])
    assert series_behind(now=NOW) == []


def test_training_hands_models_to_the_detector(storage_clean, team, frozen):
    series, _, _ = history(team)
    detect_series(series_ids=[series.id])
    before = bytes(SeriesDetector.objects.get(series=series).state)
    assert detector_train(series_id=series.id) == "trained"
    row = SeriesDetector.objects.get(series=series)
    assert row.trained_at == NOW
    assert row.trained_models
    assert bytes(row.state) != before


def test_a_state_saved_by_an_older_detector_starts_afresh(storage_clean, team, frozen):
    series, ts, _ = history(team, hours=2)
    SeriesDetector.objects.create(
        series=series,
        state=b"HD01 from an older release",
        state_ts=datetime.fromtimestamp(ts[5], UTC),
        last_ts=datetime.fromtimestamp(ts[10], UTC),
    )
    report = detect_series(series_ids=[series.id])
    assert report.points == len(ts) - 11
    assert bytes(SeriesDetector.objects.get(series=series).state).startswith(b"HD")


def as_hd02(blob: bytes) -> bytes:
    """A state saved with the discord component off, in the layout the detector used before it
    (HD02: no disc_at scalar, no discord histogram)."""
    d = detector_module
    _, m, *scalars = d._HEAD.unpack_from(blob)
    assert scalars[-1] != scalars[0]  # disc_at != n: no window ring in the blob
    arrays = d.WINDOW + m + 2 * d.DAY_BINS + 2 * 168 + d.LIK_SHORT + len(d._FEEDBACK_KEYS)
    hist_end = d._HEAD.size + 8 * (arrays + d.BINS * len(d.COMPONENTS))
    old_head = d._HEAD_V2.pack(b"HD02", m, *scalars[:-1])
    return old_head + blob[d._HEAD.size : hist_end - 8 * d.BINS] + blob[hist_end:]


def test_a_state_saved_before_the_discord_component_resumes_where_it_was(storage_clean, team):
    with time_machine.travel(NOW, tick=False):
        series, ts, _ = history(team)
    split = datetime.fromtimestamp(int(ts[len(ts) // 2]), UTC)
    with time_machine.travel(split, tick=False):
        first = detect_series(series_ids=[series.id])
    row = SeriesDetector.objects.get(series=series)
    assert bytes(row.state)[:4] == b"HD03"
    row.state = as_hd02(bytes(row.state))
    row.save(update_fields=["state"])
    detector_cache.clear()  # a restarted worker: the stored state is all there is
    with time_machine.travel(NOW, tick=False):
        second = detect_series(series_ids=[series.id])
    assert first.points + second.points == len(ts)
    resumed = list(PointScore.objects.filter(series=series).order_by("ts").values_list("score", flat=True))
    PointScore.objects.filter(series=series).delete()
    SeriesDetector.objects.filter(series=series).delete()
    detector_cache.clear()
    with time_machine.travel(NOW, tick=False):
        detect_series(series_ids=[series.id])
    straight = list(PointScore.objects.filter(series=series).order_by("ts").values_list("score", flat=True))
    np.testing.assert_allclose(resumed, straight, rtol=0, atol=1e-12)
