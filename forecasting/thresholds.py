"""Score thresholds: where a point counts as an anomaly, per sensitivity, and how "not an
anomaly" feedback raises them. Pure functions; the detector's score is sensitivity-agnostic."""

from __future__ import annotations

SENSITIVITY_THRESHOLDS = {"low": 0.9, "medium": 0.8, "high": 0.65}
# Points at or above the most sensitive threshold are recorded as anomalies.
RECORD_SCORE = min(SENSITIVITY_THRESHOLDS.values())
FEEDBACK_CAP = 4


def alert_threshold(sensitivity: str, active_feedback: int = 0) -> float:
    """Each active "not an anomaly" halves the distance to a score of 1 (at most four times)."""
    base = SENSITIVITY_THRESHOLDS.get(sensitivity, SENSITIVITY_THRESHOLDS["medium"])
    return 1.0 - (1.0 - base) * 0.5 ** min(active_feedback, FEEDBACK_CAP)
