from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import numpy as np
from django.core.exceptions import ValidationError

from alerts.evaluation import Thresholds, aggregate, threshold_level
from metrics.ingest import FUTURE_TOLERANCE_S
from metrics.selectors import samples_window

MAX_WINDOW = td(hours=6)
FUTURE_SLACK = td(seconds=FUTURE_TOLERANCE_S)


def thresholds(rule) -> Thresholds:
    return Thresholds(rule.comparator, rule.critical_threshold, rule.warning_threshold, rule.recovery_threshold)


class ThresholdEvaluator:
    kind = "threshold"
    label = "threshold"

    def validate(self, rule) -> None:
        if rule.critical_threshold is None and rule.warning_threshold is None:
            raise ValidationError({"critical_threshold": "set a critical or a warning threshold (or both)"})
        if not td(0) < rule.window <= MAX_WINDOW:
            raise ValidationError({"window": "must be between 1 second and 6 hours"})
        if rule.critical_threshold is not None and rule.warning_threshold is not None:
            crit, warn = rule.critical_threshold, rule.warning_threshold
            worse = crit >= warn if rule.comparator in ("gt", "gte") else crit <= warn
            if not worse:
                raise ValidationError({"warning_threshold": "must be less severe than the critical threshold"})

    def observe(self, rule, series, now: datetime) -> dict[int, float | None]:
        # Up to the ingest's future tolerance: a sender's clock a little ahead still counts.
        window = samples_window(series_ids=[s.id for s in series], start=now - rule.window, end=now + FUTURE_SLACK)
        empty = (np.empty(0), np.empty(0))
        return {s.id: aggregate(*window.get(s.id, empty), rule.aggregation) for s in series}

    def level(self, rule, value: float, current: str, series=None) -> str:
        return threshold_level(value, thresholds(rule), current)

    def replay_values(self, rule, series, times: np.ndarray) -> list[float | None]:
        start = datetime.fromtimestamp(float(times[0]), UTC) - rule.window
        end = datetime.fromtimestamp(float(times[-1]), UTC)
        ts, values = samples_window(series_ids=[series.id], start=start, end=end).get(
            series.id, (np.empty(0), np.empty(0))
        )
        return window_aggregates(ts, values, times, rule.window.total_seconds(), rule.aggregation)

    def higher_is_worse(self, rule) -> bool:
        return rule.comparator in ("gt", "gte")

    def describe(self, rule) -> str:
        sign = dict(rule.Comparator.choices)[rule.comparator]
        parts = [f"{rule.aggregation}({rule.metric}[{int(rule.window.total_seconds())}s])"]
        if rule.critical_threshold is not None:
            parts.append(f"critical {sign} {rule.critical_threshold:g}")
        if rule.warning_threshold is not None:
            parts.append(f"warning {sign} {rule.warning_threshold:g}")
        return ", ".join(parts)


def window_aggregates(ts: np.ndarray, values: np.ndarray, times: np.ndarray, window_s: float, how: str):
    """aggregate(samples in [t - window, t]) for every t in times, vectorised where it matters."""
    if len(ts) == 0:
        return [None] * len(times)
    lo = np.searchsorted(ts, times - window_s, side="left")
    hi = np.searchsorted(ts, times, side="right")
    out: list[float | None] = []
    if how in ("avg", "last", "rate"):
        csum = np.concatenate([[0.0], np.cumsum(values)])
        for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
            if b <= a:
                out.append(None)
            elif how == "avg":
                out.append((csum[b] - csum[a]) / (b - a))
            elif how == "last":
                out.append(float(values[b - 1]))
            else:
                span = ts[b - 1] - ts[a]
                out.append(None if span <= 0 else float(values[b - 1] - values[a]) / float(span))
        return out
    for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
        out.append(aggregate(ts[a:b], values[a:b], how) if b > a else None)
    return out
