from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_detection():
    """Scoring every stored point is the forecasting app's business and slow here: skip it."""
    from forecasting.receivers import detect_on_ingest
    from metrics.signals import samples_ingested

    samples_ingested.disconnect(detect_on_ingest)
    yield
    samples_ingested.connect(detect_on_ingest)
