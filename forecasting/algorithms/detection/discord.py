"""Discord distance (matrix-profile style) of a series' newest window against its recent past.

The query is the last M values (the new point and the M - 1 before it), z-normalised; the
reference is every window of M consecutive values among the past values in the detector's ring
buffer (the last WINDOW) that does not overlap the query (no trivial match). The distance is the
z-normalised Euclidean one, sqrt(2 M (1 - correlation)), to the nearest reference window: a shape
not seen recently is far from all of them.

Cost: the query is centred, so its correlation with a window is (window . query) / (M sd_q sd_w)
whatever the window's mean; the detector keeps 1 / sd_w of every valid window in a float32 ring
aligned with its value ring (`inverse_sds`, updated in O(M) per point by `after_push`, 0 for a
window that overlaps the newest values, crosses the ring's seam or is flat), so a point costs one
sliding dot product (`np.correlate`), one product and one max. The last M - 1 window starts, which
wrap round the ring's end, are not compared.
"""

from __future__ import annotations

import math
from array import array

import numpy as np

M = 8


def _values(ring: array, start: int, m: int) -> list[float]:
    """The m values of the ring from position `start` on (wrapping round its end)."""
    end = start + m
    if end <= len(ring):
        return ring[start:end].tolist()
    return ring[start:].tolist() + ring[: end - len(ring)].tolist()


def _inverse_sd(ring: array, start: int, m: int) -> float:
    vals = _values(ring, start, m)
    mean = sum(vals) / m
    var = sum((v - mean) * (v - mean) for v in vals) / m
    tiny = 1e-9 * (abs(mean) + 1.0)
    return 1.0 / math.sqrt(var) if var > tiny * tiny else 0.0


def after_push(inv: array, ring: array, pos: int, count: int, m: int = M) -> None:
    """Keep `inv` current after a value was written at ring position `pos` (`count` values seen
    now): the window starting there crosses the seam, the one 2 m - 2 earlier no longer overlaps
    the next query."""
    size = len(ring)
    inv[pos] = 0.0
    if count >= 2 * m - 1:
        start = (pos - 2 * m + 2) % size
        inv[start] = _inverse_sd(ring, start, m)


def rebuild(ring: array, head: int, count: int, m: int = M) -> array:
    """`inverse_sds` recomputed from the ring (a state saved without them, or not kept current)."""
    size = len(ring)
    inv = array("f", bytes(4 * size))
    k = min(count, size)
    oldest = head if count >= size else 0
    for offset in range(k - 2 * m + 2):
        start = (oldest + offset) % size
        inv[start] = _inverse_sd(ring, start, m)
    return inv


def distance(ring: array, inv: array, head: int, count: int, x: float, m: int = M) -> float:
    """Nearest z-normalised distance of (the last m - 1 past values, x) to the valid windows of
    `ring` (`count` values seen, the next written at `head`); 0.0 while fewer than 4 m values are
    kept or when the query is flat."""
    size = len(ring)
    if min(count, size) < 4 * m:
        return 0.0
    query = _values(ring, (head - m + 1) % size, m - 1)
    query.append(x)
    mean = sum(query) / m
    query = [v - mean for v in query]
    q_var = sum(v * v for v in query) / m
    if q_var <= (1e-9 * (abs(mean) + 1.0)) ** 2:
        return 0.0
    dots = np.correlate(np.frombuffer(ring, dtype=np.float64), np.array(query), "valid")
    dots *= np.frombuffer(inv, dtype=np.float32)[: size - m + 1]
    best = float(dots.max()) / (m * math.sqrt(q_var))
    return math.sqrt(max(0.0, 2.0 * m * (1.0 - min(best, 1.0))))
