"""Score new points with each series' streaming detector, record anomalies, train the
model-based parts. The detector row is locked while its series is scored and its cursor
(`last_ts`) moves in the same transaction as the scores, so a point is scored exactly once even
with several workers or a retried task."""

from __future__ import annotations

import io
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import timedelta as td

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from forecasting.algorithms.detection import Detector, train_models
from forecasting.events import anomalies_publish
from forecasting.models import Anomaly, SeriesDetector, TeamDetection
from forecasting.services import detector_cache
from forecasting.services.detector_cache import Entry
from forecasting.signals import points_scored
from forecasting.thresholds import RECORD_SCORE
from metrics.models import Series
from metrics.selectors import samples_window, series_latest

logger = logging.getLogger(__name__)
WARMUP = td(days=7)  # a new detector learns from up to a week of history before scoring live points
TRAIN_HISTORY = td(days=7)
TRAIN_EVERY = td(hours=24)
PERSIST_EVERY = td(minutes=5)
# What scoring reads of a detector row (not the state: the worker's cache holds the detector).
ROW_FIELDS = (
    "series_id",
    "last_ts",
    "trained_at",
    "persisted_at",
    "points",
    "series__team_id",
    "series__metric",
    "series__uid",
)  # how often a detector's state is saved (restarts replay since then)
ANOMALY_KINDS = set(Anomaly.Kind.values)


@dataclass
class DetectReport:
    series: int = 0
    points: int = 0
    anomalies: list[Anomaly] = field(default_factory=list)
    skipped: int = 0  # locked by another worker right now; it scores them


def _enabled(series_ids: list[int]) -> list[int]:
    """The series of teams with detection on, each with a detector row (created when missing).
    Raw SQL with arrays: the ORM's IN lists of thousands of ids cost more than the scoring."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.id FROM metrics_series s LEFT JOIN forecasting_teamdetection t ON t.team_id = s.team_id"
            " WHERE s.id = ANY(%s) AND t.enabled IS NOT FALSE",
            [series_ids],
        )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "INSERT INTO forecasting_seriesdetector (series_id, points, sensitivity, updated_at)"
            " SELECT unnest(%s::bigint[]), 0, '', now() ON CONFLICT (series_id) DO NOTHING",
            [ids],
        )
    return ids


def detect_series(*, series_ids: list[int], now: datetime | None = None) -> DetectReport:
    """Score every point that arrived since each series' cursor, up to `now`."""
    now = now or timezone.now()
    ids = _enabled(series_ids)
    report = DetectReport()
    if not ids:
        return report
    with transaction.atomic():
        rows = list(
            SeriesDetector.objects.select_for_update(of=("self",), skip_locked=True)
            .extra(where=["forecasting_seriesdetector.series_id = ANY(%s)"], params=[ids])
            .select_related("series")
            .only(*ROW_FIELDS)
        )
        report.skipped = len(ids) - len(rows)
        if not rows:
            return report
        detectors, replay_from = _detectors(rows)
        starts = [replay_from.get(r.series_id) or r.last_ts or now - WARMUP for r in rows]
        window = samples_window(series_ids=[r.series_id for r in rows], start=min(starts), end=now)
        scores: list[tuple] = []
        touched, persist = [], []
        for row in rows:
            detector = detectors[row.series_id]
            ts, values = window.get(row.series_id, (np.empty(0), np.empty(0)))
            _replay(detector, ts, values, replay_from.get(row.series_id), row.last_ts)
            if row.last_ts is not None:
                keep = ts > row.last_ts.timestamp()
                ts, values = ts[keep], values[keep]
            if len(ts):
                _score_row(row, detector, ts, values, scores, report)
                touched.append(row)
                if row.persisted_at is None or now - row.persisted_at >= PERSIST_EVERY:
                    row.state, row.state_ts, row.persisted_at = detector.to_bytes(), row.last_ts, now
                    persist.append(row)
        _write(touched, persist, scores, report.anomalies, now)
        report.series, report.points = len(touched), len(scores)
        by_team: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for row in touched:
            by_team[row.series.team_id][row.series.metric].append(row.series_id)
        entries = {r.series_id: Entry(r.last_ts, r.trained_at, detectors[r.series_id]) for r in rows}
        transaction.on_commit(lambda: _after_commit(entries, by_team, report.anomalies))
    return report


def _detectors(rows: list[SeriesDetector]) -> tuple[dict[int, Detector], dict[int, datetime]]:
    """Each row's detector: from this worker's cache when current, else the stored state (with
    the time it was saved at, from which the samples must be replayed)."""
    detectors: dict[int, Detector] = {}
    for row in rows:
        cached = detector_cache.take(row.series_id, cursor=row.last_ts, trained_at=row.trained_at)
        if cached is not None:
            detectors[row.series_id] = cached
    stale = [r.series_id for r in rows if r.series_id not in detectors]
    replay_from: dict[int, datetime] = {}
    stored = SeriesDetector.objects.filter(series_id__in=stale).values_list("series_id", "state", "state_ts")
    unreadable = 0
    for series_id, state, state_ts in stored:
        detector = _restore(state)
        unreadable += bool(state) and detector is None
        detectors[series_id] = detector or Detector()
        if detector is not None and state_ts is not None:
            replay_from[series_id] = state_ts
    if unreadable:
        logger.warning("%d detector state(s) unreadable (older format?): those series start afresh", unreadable)
    return detectors, replay_from


def _restore(state) -> Detector | None:
    """The saved detector, or None when there is none or it was saved by an older detector
    version (the format changes with the algorithm): the series then starts learning afresh."""
    if not state:
        return None
    try:
        return Detector.from_bytes(bytes(state))
    except Exception:  # another format or damaged: scoring must go on (struct.error, ValueError …)
        logger.debug("unreadable detector state (older format?): starting afresh")
        return None


def _replay(detector, ts: np.ndarray, values: np.ndarray, since: datetime | None, until: datetime | None) -> None:
    """Feed the detector the points it missed since its state was saved (already scored)."""
    if since is None or until is None or since >= until:
        return
    mask = (ts > since.timestamp()) & (ts <= until.timestamp())
    for t, v in zip(ts[mask].tolist(), values[mask].tolist(), strict=True):
        detector.update(t, v)


def _after_commit(entries: dict, by_team: dict, anomalies: list[Anomaly]) -> None:
    for series_id, entry in entries.items():
        detector_cache.put(series_id, entry)
    _announce(by_team, anomalies)


def _score_row(row, detector, ts: np.ndarray, values: np.ndarray, scores: list, report: DetectReport) -> None:
    last = None
    for t, v in zip(ts.tolist(), values.tolist(), strict=True):
        result = detector.update(t, v)
        last = result
        scores.append((row.series_id, t, result.score, result.expected, result.lower, result.upper))
        if result.score >= RECORD_SCORE:
            report.anomalies.append(_anomaly(row, t, v, result))
    row.last_ts = datetime.fromtimestamp(ts[-1], UTC)
    row.points += len(ts)
    row.last_score = last.score if last else None


def _anomaly(row: SeriesDetector, t: float, value: float, result) -> Anomaly:
    kind = result.kind if result.kind in ANOMALY_KINDS else Anomaly.Kind.OTHER
    return Anomaly(
        team_id=row.series.team_id,
        series=row.series,
        ts=datetime.fromtimestamp(t, UTC),
        value=value,
        score=result.score,
        confidence=result.confidence,
        kind=kind,
        expected=_finite(result.expected),
        lower=_finite(result.lower),
        upper=_finite(result.upper),
        components={k: round(float(v), 4) for k, v in (result.components or {}).items()},
    )


def _finite(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def _write(rows: list, persist: list, scores: list[tuple], anomalies: list[Anomaly], now: datetime) -> None:
    """Point scores by COPY; every touched row's cursor; the state of the rows due a save."""
    if not rows:
        return
    buffer = io.StringIO()
    for sid, t, score, expected, lower, upper in scores:
        buffer.write(f"{sid}\t{datetime.fromtimestamp(t, UTC).isoformat()}\t{score!r}\t")
        buffer.write("\t".join(_copy_value(x) for x in (expected, lower, upper)) + "\n")
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY forecasting_pointscore (series_id, ts, score, expected, lower, upper) FROM STDIN"
        ) as copy:
            copy.write(buffer.getvalue())
        cursor.execute(
            "UPDATE forecasting_seriesdetector d SET last_ts = u.last_ts, points = u.points,"
            " last_score = u.last_score, updated_at = %s"
            " FROM unnest(%s::bigint[], %s::timestamptz[], %s::bigint[], %s::float8[])"
            " AS u(series_id, last_ts, points, last_score) WHERE d.series_id = u.series_id",
            [
                now,
                [r.series_id for r in rows],
                [r.last_ts for r in rows],
                [r.points for r in rows],
                [r.last_score for r in rows],
            ],
        )
        if persist:
            cursor.execute(
                "UPDATE forecasting_seriesdetector d SET state = u.state, state_ts = u.state_ts, persisted_at = %s"
                " FROM unnest(%s::bigint[], %s::bytea[], %s::timestamptz[]) AS u(series_id, state, state_ts)"
                " WHERE d.series_id = u.series_id",
                [now, [r.series_id for r in persist], [r.state for r in persist], [r.state_ts for r in persist]],
            )
    if anomalies:
        Anomaly.objects.bulk_create(anomalies, ignore_conflicts=True)


def _copy_value(x) -> str:
    return repr(float(x)) if x is not None and np.isfinite(x) else "\\N"


def _announce(by_team: dict, anomalies: list[Anomaly]) -> None:
    for team_id, series in by_team.items():
        try:
            points_scored.send(sender=Anomaly, team_id=team_id, series={m: list(ids) for m, ids in series.items()})
        except Exception:  # a receiver failing must not undo scoring that already committed
            logger.exception("points_scored receiver failed for team %s", team_id)
    anomalies_publish(anomalies)


def detectors_due_training(*, now: datetime, limit: int) -> list[int]:
    """Scored series whose model-based detectors are missing or a day old, oldest first."""
    return list(
        SeriesDetector.objects.filter(last_ts__gte=now - td(days=1))
        .exclude(trained_at__gte=now - TRAIN_EVERY)
        .order_by("trained_at")
        .values_list("series_id", flat=True)[:limit]
    )


def detector_train(*, series_id: int, now: datetime | None = None) -> str:
    """Fit the model-based detectors on the last week, then hand them to the streaming detector."""
    now = now or timezone.now()
    ts, values = samples_window(series_ids=[series_id], start=now - TRAIN_HISTORY, end=now).get(
        series_id, (np.empty(0), np.empty(0))
    )
    blob = train_models(ts, values)
    with transaction.atomic():
        row = SeriesDetector.objects.select_for_update().filter(series_id=series_id).first()
        if row is None:
            return "no detector"
        row.trained_at = now
        detector = _restore(row.state)
        if blob is not None and detector is not None:
            detector.set_models(blob)
            row.state = detector.to_bytes()
            row.trained_models = blob
        row.save(update_fields=["trained_at", "state", "trained_models"])
    return "trained" if blob is not None else "too little history"


def series_behind(*, now: datetime, chunk: int = 5000) -> list[int]:
    """Series of detection-enabled teams with a sample newer than their detector's cursor."""
    disabled = TeamDetection.objects.filter(enabled=False).values_list("team_id", flat=True)
    cursors = dict(SeriesDetector.objects.values_list("series_id", "last_ts"))
    ids = list(Series.objects.exclude(team_id__in=disabled).values_list("id", flat=True))
    behind = []
    for i in range(0, len(ids), chunk):
        part = ids[i : i + chunk]
        for sid, (ts, _) in series_latest(series_ids=part).items():
            cursor = cursors.get(sid)
            if (cursor is None and ts >= now - WARMUP) or (cursor is not None and ts > cursor):
                behind.append(sid)
    return behind
