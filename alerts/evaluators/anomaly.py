"""Rule kind "anomaly": fires when the detector's score stays at or above the series' threshold
for N consecutive points within the window. The threshold follows the series' sensitivity and
its "not an anomaly" feedback unless the rule sets one. Reads forecasting through its selectors."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import numpy as np
from django.core.exceptions import ValidationError

from alerts.evaluation import CRITICAL, OK
from forecasting.selectors import alert_thresholds, scores_window, strongest_anomaly

MAX_WINDOW = td(hours=6)
MAX_POINTS = 30


def run_value(scores: np.ndarray, points: int) -> float | None:
    """The best score held for `points` consecutive points: max over i of min(scores[i-N+1..i])."""
    if len(scores) < points:
        return None
    if points == 1:
        return float(scores.max())
    runs = np.lib.stride_tricks.sliding_window_view(scores, points).min(axis=1)
    return float(runs.max())


class AnomalyEvaluator:
    kind = "anomaly"
    label = "anomaly (learned baseline)"

    def __init__(self) -> None:
        self._thresholds: dict[int, float] = {}

    def validate(self, rule) -> None:
        params = rule.params or {}
        points = params.get("points", 1)
        if not isinstance(points, int) or isinstance(points, bool) or not 1 <= points <= MAX_POINTS:
            raise ValidationError({"params": f"points must be a whole number from 1 to {MAX_POINTS}"})
        threshold = params.get("threshold")
        if threshold is not None and (not isinstance(threshold, int | float) or not 0 < threshold < 1):
            raise ValidationError({"params": "threshold must be a number between 0 and 1 (or left out)"})
        if not td(0) < rule.window <= MAX_WINDOW:
            raise ValidationError({"window": "must be between 1 second and 6 hours"})

    def threshold(self, rule, series_id: int | None) -> float:
        fixed = (rule.params or {}).get("threshold")
        return float(fixed) if fixed is not None else self._thresholds.get(series_id, 0.8)

    def observe(self, rule, series, now: datetime) -> dict[int, float | None]:
        self._thresholds.update(alert_thresholds(series=series))
        window = scores_window(series_ids=[s.id for s in series], start=now - rule.window, end=now)
        points = (rule.params or {}).get("points", 1)
        return {s.id: run_value(window[s.id]["score"], points) if s.id in window else None for s in series}

    def level(self, rule, value: float, current: str, series=None) -> str:
        return CRITICAL if value >= self.threshold(rule, series.id if series else None) else OK

    def replay_values(self, rule, series, times: np.ndarray) -> list[float | None]:
        self._thresholds.update(alert_thresholds(series=[series]))
        start = datetime.fromtimestamp(float(times[0]), UTC) - rule.window
        end = datetime.fromtimestamp(float(times[-1]), UTC)
        data = scores_window(series_ids=[series.id], start=start, end=end).get(series.id)
        if data is None:
            return [None] * len(times)
        ts, scores = data["ts"], data["score"]
        lo = np.searchsorted(ts, times - rule.window.total_seconds(), side="left")
        hi = np.searchsorted(ts, times, side="right")
        points = (rule.params or {}).get("points", 1)
        return [run_value(scores[a:b], points) for a, b in zip(lo.tolist(), hi.tolist(), strict=True)]

    def higher_is_worse(self, rule) -> bool:
        return True

    def describe(self, rule) -> str:
        params = rule.params or {}
        threshold = params.get("threshold")
        at = f"score ≥ {threshold:g}" if threshold is not None else "score ≥ the series' sensitivity threshold"
        return f"anomaly in {rule.metric}: {at} for {params.get('points', 1)} point(s) within {rule.window}"

    def explain(self, rule, series, value: float | None, now: datetime) -> dict:
        """The strongest anomaly in the window: what kind, and how far from the expected band."""
        if series is None:
            return {}
        anomaly = strongest_anomaly(series_id=series.id, start=now - rule.window, end=now)
        if anomaly is None:
            return {}
        band = ""
        if anomaly.lower is not None and anomaly.upper is not None:
            band = f" outside the expected {anomaly.lower:.4g}–{anomaly.upper:.4g}"
        return {
            "summary": f"{series}: {anomaly.get_kind_display().lower()} — {anomaly.value:.4g}{band}"
            f" (score {anomaly.score:.2f})",
            "annotations": {
                "anomaly_kind": anomaly.kind,
                "anomaly_at": anomaly.ts.isoformat(),
                "anomaly_value": f"{anomaly.value:.6g}",
                "anomaly_score": f"{anomaly.score:.3f}",
                "expected": "" if anomaly.expected is None else f"{anomaly.expected:.6g}",
                "expected_band": "" if not band else f"{anomaly.lower:.6g} – {anomaly.upper:.6g}",
                "threshold": f"{self.threshold(rule, series.id):.3f}",
                "detectors": ", ".join(f"{k} {v:.2f}" for k, v in sorted(anomaly.components.items())),
            },
        }
