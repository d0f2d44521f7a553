"""Typed live events: anomalies and forecast risks, published after the scores commit."""

from __future__ import annotations

from collections import defaultdict
from typing import Literal, TypedDict

from core.live import publish

MAX_PER_MESSAGE = 50


class AnomalyDetected(TypedDict):
    type: Literal["anomaly.detected"]
    series: str
    metric: str
    labels: dict[str, str]
    ts: str
    value: float
    score: float
    kind: str
    lower: float | None
    upper: float | None


class ForecastUpdated(TypedDict):
    type: Literal["forecast.updated"]
    series: list[str]


def forecasts_publish(team_id: int, series_uids: list[str]) -> None:
    """Call after commit: these series have fresh forecasts (and forecast-breach rules re-ran)."""
    event: ForecastUpdated = {"type": "forecast.updated", "series": series_uids[: MAX_PER_MESSAGE * 10]}
    publish(team_id, event)


def anomalies_publish(anomalies: list) -> None:
    """Call after commit. One event per anomaly, at most 50 per team and batch (the newest)."""
    by_team = defaultdict(list)
    for anomaly in anomalies:
        by_team[anomaly.team_id].append(anomaly)
    for team_id, items in by_team.items():
        for anomaly in sorted(items, key=lambda a: a.ts)[-MAX_PER_MESSAGE:]:
            series = anomaly.series
            event: AnomalyDetected = {
                "type": "anomaly.detected",
                "series": str(series.uid),
                "metric": series.metric,
                "labels": series.labels,
                "ts": anomaly.ts.isoformat(),
                "value": anomaly.value,
                "score": round(anomaly.score, 4),
                "kind": anomaly.kind,
                "lower": anomaly.lower,
                "upper": anomaly.upper,
            }
            publish(team_id, event)
