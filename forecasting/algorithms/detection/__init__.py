"""Streaming anomaly detection for one series at a time (pure numpy / scikit-learn, no Django).

- `Detector.update(ts, value) -> Score`: O(window) per point, state in `to_bytes()` / `from_bytes()`.
- `train_models(ts, values) -> bytes | None`: the periodic model training (Celery), handed to the
  streaming detector with `Detector.set_models(blob)` when `Detector.needs_training()` says so.
"""

from __future__ import annotations

from forecasting.algorithms.detection.detector import Detector
from forecasting.algorithms.detection.models import train_models
from forecasting.algorithms.detection.score import KINDS, Score

__all__ = ["KINDS", "Detector", "Score", "train_models"]
