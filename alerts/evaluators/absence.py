from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from django.core.exceptions import ValidationError

from alerts.evaluation import CRITICAL, OK
from metrics.selectors import samples_window, series_latest


class AbsenceEvaluator:
    """Dead man's switch: fires when a series has sent nothing for `absence_after`.
    The value is the number of seconds since the newest sample."""

    kind = "absence"
    label = "absence (no data)"

    def validate(self, rule) -> None:
        if rule.absence_after.total_seconds() < 60:
            raise ValidationError({"absence_after": "must be at least one minute"})

    def observe(self, rule, series, now: datetime) -> dict[int | None, float | None]:
        if not series:
            return {None: float("inf")}  # nothing matches the selector at all
        latest = series_latest(series_ids=[s.id for s in series])
        return {s.id: (now - latest[s.id][0]).total_seconds() if s.id in latest else float("inf") for s in series}

    def level(self, rule, value: float, current: str, series=None) -> str:
        return CRITICAL if value > rule.absence_after.total_seconds() else OK

    def replay_values(self, rule, series, times: np.ndarray) -> list[float | None]:
        start = datetime.fromtimestamp(float(times[0]), UTC) - rule.absence_after * 2
        end = datetime.fromtimestamp(float(times[-1]), UTC)
        ts, _ = samples_window(series_ids=[series.id], start=start, end=end).get(series.id, (np.empty(0), None))
        idx = np.searchsorted(ts, times, side="right")
        return [
            float(t - ts[i - 1]) if i > 0 else float("inf") for t, i in zip(times.tolist(), idx.tolist(), strict=True)
        ]

    def higher_is_worse(self, rule) -> bool:
        return True

    def describe(self, rule) -> str:
        return f"no {rule.metric} data for {int(rule.absence_after.total_seconds() // 60)} min"
