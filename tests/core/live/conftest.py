from __future__ import annotations

import pytest

from core import live_log


@pytest.fixture(autouse=True)
def _empty_live_log():
    """Team ids repeat across test runs: start every test with no counters and no logs."""
    client = live_log.client()
    keys = list(client.scan_iter(f"{live_log.key_prefix()}:*"))
    if keys:
        client.delete(*keys)
    return
