"""Model-based sub-detectors: Isolation Forest and One-Class SVM on windowed features.

They are trained periodically on stored history (`train_models`, run by a Celery task or by the
NAB command) and scored in the streaming path by table lookup: at training time each model's
anomaly score is evaluated on a GRID x GRID lattice over the (normalised) feature plane and turned
into a tail probability (the share of training points that look more normal). The streaming
detector then costs one index computation per point instead of a scikit-learn call (~100 µs).

Features of point i (the same definition in both paths):
  f1 = x[i]                                  (level)
  f2 = x[i] - mean(x[i-LAG..i-1])            (departure from the last LAG points)
"""

from __future__ import annotations

import struct

import numpy as np

LAG = 6
GRID = 32
SPAN = 8.0  # the lattice covers [-SPAN, SPAN] robust standard deviations on both axes
MIN_POINTS = 200
MAX_POINTS = 2000
MAGIC = b"HM1"
_HEADER = struct.Struct("<3sB4d")


def features(values: np.ndarray) -> np.ndarray:
    """(n - LAG, 2) feature rows for points LAG..n-1."""
    x = np.asarray(values, dtype=float)
    csum = np.concatenate([[0.0], np.cumsum(x)])
    prev_mean = (csum[LAG:-1] - csum[: -LAG - 1]) / LAG
    return np.column_stack([x[LAG:], x[LAG:] - prev_mean])


def _robust_centre_scale(col: np.ndarray, floor: float) -> tuple[float, float]:
    q1, med, q3 = np.percentile(col, [25, 50, 75])
    return float(med), max(float(q3 - q1) / 1.349, floor)


def train_models(ts: np.ndarray, values: np.ndarray) -> bytes | None:
    """Fit both models on the last MAX_POINTS points of history; None when there is too little.

    Deterministic (fixed seeds), so a retrain on the same history gives the same blob."""
    from sklearn.ensemble import IsolationForest
    from sklearn.svm import OneClassSVM

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)][-(MAX_POINTS + LAG) :]
    if len(x) < MIN_POINTS + LAG:
        return None
    feats = features(x)
    floor = 1e-3 * (float(np.median(np.abs(x))) + 1e-6)
    c1, s1 = _robust_centre_scale(feats[:, 0], floor)
    c2, s2 = _robust_centre_scale(feats[:, 1], floor)
    z = np.clip((feats - [c1, c2]) / [s1, s2], -SPAN, SPAN)
    axis = np.linspace(-SPAN, SPAN, GRID)
    lattice = np.column_stack([np.repeat(axis, GRID), np.tile(axis, GRID)])
    tables = []
    forest = IsolationForest(n_estimators=50, max_samples=256, random_state=0).fit(z)
    svm = OneClassSVM(nu=0.05, gamma=0.5).fit(z[:: max(1, len(z) // 1000)])
    for model in (forest, svm):
        seen = np.sort(model.score_samples(z))
        # Tail probability: share of training points scoring higher (more normal) than the cell.
        tail = 1.0 - np.searchsorted(seen, model.score_samples(lattice), side="right") / len(seen)
        tables.append(np.round(255 * tail).astype(np.uint8).tobytes())
    return _HEADER.pack(MAGIC, GRID, c1, s1, c2, s2) + b"".join(tables)


class ModelTables:
    """The trained models as lookup tables (what the streaming detector keeps)."""

    __slots__ = ("blob", "c1", "c2", "forest", "inv1", "inv2", "svm")

    def __init__(self, blob: bytes) -> None:
        magic, grid, c1, s1, c2, s2 = _HEADER.unpack_from(blob)
        if magic != MAGIC or grid != GRID:
            raise ValueError("not a detector model blob")
        cells = GRID * GRID
        self.blob = blob
        self.c1, self.c2 = c1, c2
        self.inv1, self.inv2 = 1.0 / s1, 1.0 / s2
        self.forest = blob[_HEADER.size : _HEADER.size + cells]
        self.svm = blob[_HEADER.size + cells : _HEADER.size + 2 * cells]

    def lookup(self, f1: float, f2: float) -> tuple[float, float]:
        """(isolation forest, one-class SVM) tail probabilities of one feature row."""
        scale = (GRID - 1) / (2 * SPAN)
        i = round((min(max((f1 - self.c1) * self.inv1, -SPAN), SPAN) + SPAN) * scale)
        j = round((min(max((f2 - self.c2) * self.inv2, -SPAN), SPAN) + SPAN) * scale)
        k = i * GRID + j
        return self.forest[k] / 255.0, self.svm[k] / 255.0
