"""M4 competition scoring: sMAPE, MASE, Naive2 and OWA as the organisers defined them.

Definitions (Makridakis, Spiliotis & Assimakopoulos, 2020, and the competition's benchmark code):

- sMAPE of one series: mean over the horizon of 200·|y − ŷ| / (|y| + |ŷ|).
- MASE of one series: mean |y − ŷ| over the horizon, divided by the in-sample mean absolute
  seasonal difference mean |x_t − x_{t−m}| of the training data.
- Naive2: the last value of the multiplicatively deseasonalised training series, re-seasonalised
  with the last m seasonal indices. The series counts as seasonal when it has at least 3·m points
  and |ACF(m)| exceeds the 90 % limit 1.645·sqrt((1 + 2·Σ_{k<m} ACF(k)²) / n); otherwise Naive2 is
  the plain naive forecast. The indices come from a classical decomposition: a centred 2×m moving
  average as the trend, then the mean ratio to it per phase, normalised to mean 1.
- Scores of a set are plain means over its series; OWA = ½(sMAPE/sMAPE_Naive2 + MASE/MASE_Naive2).

Nothing here imports Django; the `m4_forecast` command and the tests call these functions.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEASONALITY_Z = 1.645  # two-sided 90 %


def load_m4(path: str | Path) -> dict[str, np.ndarray]:
    """Series of an M4-layout CSV file (header row, then id and values; short rows end in empty cells)."""
    series: dict[str, np.ndarray] = {}
    with open(path, newline="") as f:
        reader = csv.reader(f)
        for row in reader:
            if not row:
                continue
            key = row[0].strip().strip('"')
            values = [v for v in row[1:] if v.strip() not in ("", "NA")]
            try:
                series[key] = np.array([float(v) for v in values], dtype=float)
            except ValueError:
                continue  # the header row
    return series


def write_forecasts(path: str | Path, forecasts: Mapping[str, np.ndarray]) -> None:
    """One row per series: id, then the forecast values (with a header row, as M4 files have)."""
    horizon = max((len(v) for v in forecasts.values()), default=0)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", *(f"F{i}" for i in range(1, horizon + 1))])
        for key, values in forecasts.items():
            writer.writerow([key, *(repr(float(v)) for v in values)])


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    denominator = np.abs(actual) + np.abs(forecast)
    terms = np.divide(200 * np.abs(actual - forecast), denominator, out=np.zeros_like(actual), where=denominator > 0)
    return float(terms.mean())


def mase(actual: np.ndarray, forecast: np.ndarray, insample: np.ndarray, season: int) -> float:
    actual, forecast, insample = (np.asarray(a, float) for a in (actual, forecast, insample))
    lag = season if len(insample) > season else 1
    scale = np.mean(np.abs(insample[lag:] - insample[:-lag]))
    return float(np.mean(np.abs(actual - forecast)) / scale)


def acf(x: np.ndarray, nlags: int) -> np.ndarray:
    """Sample autocorrelations at lags 1..nlags (biased estimator, as R's acf)."""
    centred = x - x.mean()
    denominator = np.dot(centred, centred)
    n = len(x)
    return np.array([np.dot(centred[lag:], centred[: n - lag]) / denominator for lag in range(1, nlags + 1)])


def is_seasonal(x: np.ndarray, season: int) -> bool:
    """The competition's 90 % autocorrelation test at lag `season`."""
    n = len(x)
    if season <= 1 or n < 3 * season:
        return False
    r = acf(x, season)
    limit = SEASONALITY_Z * np.sqrt((1 + 2 * np.sum(r[: season - 1] ** 2)) / n)
    return bool(abs(r[season - 1]) > limit)


def seasonal_indices(x: np.ndarray, season: int) -> np.ndarray:
    """Classical multiplicative decomposition: one index per position of x (mean 1 over a season)."""
    n = len(x)
    even = season % 2 == 0
    weights = np.r_[0.5, np.ones(season - 1), 0.5] / season if even else np.ones(season) / season
    half = len(weights) // 2
    trend = np.full(n, np.nan)
    trend[half : n - half] = np.convolve(x, weights, mode="valid")
    ratio = x / trend
    figure = np.array([np.nanmean(ratio[phase::season]) for phase in range(season)])
    figure = figure / figure.mean()
    return np.resize(figure, n)


def naive2(x: np.ndarray, horizon: int, season: int) -> np.ndarray:
    x = np.asarray(x, float)
    if not is_seasonal(x, season):
        return np.repeat(x[-1], horizon)
    indices = seasonal_indices(x, season)
    level = x[-1] / indices[-1]
    return level * np.resize(indices[-season:], horizon)


@dataclass(frozen=True)
class Score:
    series: int
    smape: float
    mase: float
    owa: float
    naive2_smape: float
    naive2_mase: float

    def as_dict(self) -> dict[str, float]:
        return {
            "series": self.series,
            "smape": round(self.smape, 3),
            "mase": round(self.mase, 3),
            "owa": round(self.owa, 3),
            "naive2_smape": round(self.naive2_smape, 3),
            "naive2_mase": round(self.naive2_mase, 3),
        }


def errors(
    train: Mapping[str, np.ndarray],
    test: Mapping[str, np.ndarray],
    forecasts: Mapping[str, np.ndarray],
    *,
    season: int,
    ids: Iterable[str] | None = None,
) -> tuple[float, float]:
    """Mean sMAPE and mean MASE over the series `ids` (default: all of `test`)."""
    keys = list(test) if ids is None else list(ids)
    smapes = [smape(test[k], forecasts[k][: len(test[k])]) for k in keys]
    mases = [mase(test[k], forecasts[k][: len(test[k])], train[k], season) for k in keys]
    return float(np.mean(smapes)), float(np.mean(mases))


def score(
    train: Mapping[str, np.ndarray],
    test: Mapping[str, np.ndarray],
    forecasts: Mapping[str, np.ndarray],
    *,
    season: int,
    ids: Iterable[str] | None = None,
) -> Score:
    """sMAPE, MASE and OWA of `forecasts` against Naive2 on the same series."""
    keys = list(test) if ids is None else list(ids)
    missing = [k for k in keys if k not in forecasts or not np.all(np.isfinite(forecasts[k][: len(test[k])]))]
    if missing:
        raise ValueError(f"{len(missing)} series lack a finite forecast, e.g. {missing[:5]}")
    benchmark = {k: naive2(train[k], len(test[k]), season) for k in keys}
    s, m = errors(train, test, forecasts, season=season, ids=keys)
    s2, m2 = errors(train, test, benchmark, season=season, ids=keys)
    return Score(series=len(keys), smape=s, mase=m, owa=0.5 * (s / s2 + m / m2), naive2_smape=s2, naive2_mase=m2)
