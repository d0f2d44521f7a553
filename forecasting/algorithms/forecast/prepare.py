"""Input cleaning shared by every model: seasons as a tuple, NaN gaps filled, log transform."""

from __future__ import annotations

import numpy as np

Seasons = tuple[int, ...]


def as_seasons(season: int | tuple[int, ...] | list[int] | None) -> Seasons:
    """Seasonal periods (in steps) as a sorted tuple without periods ≤ 1 (None or 1: no season)."""
    if season is None:
        return ()
    values = (season,) if isinstance(season, int | np.integer) else tuple(season)
    return tuple(sorted({int(s) for s in values if int(s) > 1}))


def clean(y: np.ndarray | list[float]) -> np.ndarray:
    """A float copy with NaN/inf gaps filled by linear interpolation (the ends by the nearest value)."""
    y = np.asarray(y, dtype=float).ravel()
    ok = np.isfinite(y)
    if not ok.any():
        raise ValueError("the series has no finite value")
    if ok.all():
        return y.copy()
    positions = np.arange(len(y))
    return np.interp(positions, positions[ok], y[ok])


def usable_seasons(seasons: Seasons, n: int, cycles: int = 2) -> Seasons:
    """The periods with at least `cycles` full cycles in n points."""
    return tuple(s for s in seasons if n >= cycles * s)


class LogScale:
    """Log transform for strictly positive series (multiplicative seasonality), identity otherwise."""

    def __init__(self, y: np.ndarray) -> None:
        self.on = bool(np.all(y > 0))

    def forward(self, y: np.ndarray) -> np.ndarray:
        return np.log(y) if self.on else y

    def back(self, z: np.ndarray) -> np.ndarray:
        return np.exp(z) if self.on else z
