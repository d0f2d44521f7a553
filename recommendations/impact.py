"""Pure helpers of the feed: coarse evidence buckets (for keys) and impact estimates. No Django."""

from __future__ import annotations

import math
from datetime import datetime


def doubling_bucket(value: float | None) -> int:
    """0 for nothing, then 1, 2, 3 … each time the magnitude doubles (1, 2–3, 4–7, …)."""
    if value is None or not math.isfinite(value) or abs(value) < 1:
        return 0
    return int(math.log2(abs(value))) + 1


def quarter_bucket(fraction: float) -> int:
    """Budget remaining in quarters: -1 (overspent), 0 (0–25 %), 1, 2, 3."""
    return max(-1, min(3, math.floor(fraction * 4)))


def projected_overspend_minutes(
    *, consumed_s: float, budget_s: float, window_start: datetime, as_of: datetime, window_end: datetime
) -> float:
    """Minutes of error budget the current burn would overspend by the end of the window (linear
    projection of what has been consumed so far); 0 when it stays within the budget."""
    elapsed = (as_of - window_start).total_seconds()
    whole = (window_end - window_start).total_seconds()
    if elapsed <= 0 or whole <= 0:
        return 0.0
    projected = consumed_s * max(whole / elapsed, 1.0)
    return max(0.0, (projected - budget_s) / 60)


def pages_avoided(*, pages: int, baseline: int | None, fired: int | None, auto_resolved: float | None) -> float:
    """Pages a rule change would have saved: the pages scaled by the backtested cut in firings when
    a backtest exists, else the pages for alerts that resolved with nobody acting."""
    if baseline and fired is not None:
        return pages * (1 - fired / baseline)
    return pages * (auto_resolved or 0.0)
