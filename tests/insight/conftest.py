from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_detection(monkeypatch):
    """Scoring every stored point is the forecasting app's business and slow here: skip it."""
    monkeypatch.setattr("forecasting.receivers.detect_series.delay", lambda *a, **k: None)
