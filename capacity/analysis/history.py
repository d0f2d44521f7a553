"""Where an hourly mean belongs in time."""

from __future__ import annotations

import numpy as np

from capacity.analysis.types import HOUR


def mid_bucket(starts: np.ndarray, *, end: float, step: float = HOUR) -> np.ndarray:
    """The middle of each bucket (the rollups stamp a mean at its bucket's start, so fitting it
    there puts every forecast half a bucket early); the bucket in progress ends at `end`."""
    starts = np.asarray(starts, dtype=float)
    return starts + (np.minimum(starts + step, max(end, 0.0)) - starts) / 2
