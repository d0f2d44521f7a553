"""NAB v1.1 scoring (Numenta Anomaly Benchmark), written for HiveOps' detector evaluation.

Rules: three cost profiles; the first min(floor(0.15·N), 750) rows of a file are probationary
and not scored; inside a labelled window the earliest detection earns a scaled sigmoid of its
position (full credit at the window start, almost none at its end); a window without detection
costs the false-negative weight; a detection outside every window costs the false-positive
weight, scaled down when it follows shortly after a window; one global threshold per profile,
swept over every distinct score (a row is a detection when score >= threshold); the raw total is
normalised so the null detector scores 0 and the perfect one 100.

Pure numpy, no Django. `corpus_score(files)` takes, per file, the timestamps (any comparable
values), the scores and the windows as (start, end) pairs of timestamps.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecasting.algorithms.detection import Detector, train_models

PROFILES: dict[str, dict[str, float]] = {
    "standard": {"tp": 1.0, "fn": 1.0, "fp": 0.11},
    "reward_low_FP_rate": {"tp": 1.0, "fn": 1.0, "fp": 0.22},
    "reward_low_FN_rate": {"tp": 1.0, "fn": 2.0, "fp": 0.11},
}
SHORT_NAMES = {"standard": "standard", "reward_low_FP_rate": "low_fp", "reward_low_FN_rate": "low_fn"}
PROBATION_FRACTION = 0.15
PROBATION_MAX_ROWS = 750


def scaled_sigmoid(y: np.ndarray | float) -> np.ndarray:
    """NAB's sigmoid: 1 well before 0, -1 beyond 3 (y is a position relative to a window)."""
    y = np.asarray(y, dtype=float)
    out = 2.0 / (1.0 + np.exp(np.minimum(5.0 * y, 700.0))) - 1.0
    return np.where(y > 3.0, -1.0, out)


MAX_TP = float(scaled_sigmoid(-1.0))


def probation_rows(n: int) -> int:
    return min(math.floor(PROBATION_FRACTION * n), PROBATION_MAX_ROWS)


@dataclass
class FileRows:
    """Per scored row of one file: its score, unit weight and window number (-1 outside)."""

    scores: np.ndarray
    tp_unit: np.ndarray  # sigmoid credit in [0, 1] for rows inside a window, else 0
    fp_unit: np.ndarray  # penalty multiplier in [0, 1] for rows outside windows, else 0
    window: np.ndarray  # window index within the file, -1 outside
    n_windows: int


def window_spans(timestamps: Sequence, windows: Iterable[tuple]) -> list[tuple[int, int]]:
    """Row spans (first row of the start timestamp, first row of the end timestamp)."""
    first: dict = {}
    for i, t in enumerate(timestamps):
        first.setdefault(t, i)
    return sorted((first[a], first[b]) for a, b in windows)


def file_rows(timestamps: Sequence, scores: Sequence[float], windows: Iterable[tuple]) -> FileRows:
    n = len(timestamps)
    spans = window_spans(timestamps, windows)
    idx = np.arange(n)
    window = np.full(n, -1)
    tp_unit = np.zeros(n)
    fp_unit = np.ones(n)  # before the first window a false positive costs the full weight
    for k, (start, end) in enumerate(spans):
        width = end - start + 1
        inside = slice(start, end + 1)
        window[inside] = k
        tp_unit[inside] = scaled_sigmoid(-(end - idx[inside] + 1) / width) / MAX_TP
        fp_unit[inside] = 0.0
        nxt = spans[k + 1][0] if k + 1 < len(spans) else n
        after = slice(end + 1, nxt)
        # Just after a window a detection is a smaller mistake: scaled by the distance to its end.
        fp_unit[after] = -scaled_sigmoid(np.abs(end - idx[after]) / max(width - 1, 1))
    keep = slice(probation_rows(n), n)
    return FileRows(
        scores=np.asarray(scores, dtype=float)[keep],
        tp_unit=tp_unit[keep],
        fp_unit=fp_unit[keep],
        window=window[keep],
        n_windows=len(spans),
    )


def sweep(rows: list[FileRows], profile: Mapping[str, float]) -> tuple[float, float]:
    """Best raw score over all thresholds, and the (highest) threshold that reaches it."""
    n_windows = sum(r.n_windows for r in rows)
    scores = np.concatenate([r.scores for r in rows])
    gain = np.zeros(len(scores))
    outside = np.concatenate([r.window < 0 for r in rows])
    gain[outside] = -profile["fp"] * np.concatenate([r.fp_unit for r in rows])[outside]
    # Window rows: lowering the threshold adds a row; the window's credit is the best row so far.
    offset, window_ids = 0, []
    for r in rows:
        window_ids.append(np.where(r.window >= 0, r.window + offset, -1))
        offset += r.n_windows
    window_id = np.concatenate(window_ids)
    credit = profile["tp"] * np.concatenate([r.tp_unit for r in rows])
    order = np.argsort(-scores, kind="stable")
    best_so_far = np.full(n_windows, -profile["fn"])
    for i in order[window_id[order] >= 0]:
        w = window_id[i]
        if credit[i] > best_so_far[w]:
            gain[i] = credit[i] - best_so_far[w]
            best_so_far[w] = credit[i]
    sorted_scores = scores[order]
    totals = -profile["fn"] * n_windows + np.cumsum(gain[order])
    # A threshold admits every row with an equal score: evaluate only at the end of each tie group.
    ends = np.flatnonzero(np.append(sorted_scores[1:] != sorted_scores[:-1], True))
    best_raw, best_thr = -profile["fn"] * n_windows, 1.1
    if len(ends):
        k = int(np.argmax(totals[ends]))  # first maximum = highest threshold
        if totals[ends][k] > best_raw:
            best_raw, best_thr = float(totals[ends][k]), float(sorted_scores[ends[k]])
    return best_raw, best_thr


def normalised(raw: float, n_windows: int, profile: Mapping[str, float]) -> float:
    perfect, null = n_windows * profile["tp"], -n_windows * profile["fn"]
    return 100.0 * (raw - null) / (perfect - null)


def corpus_score(files: Mapping[str, tuple[Sequence, Sequence[float], Iterable[tuple]]]) -> dict[str, dict]:
    """{profile: {"score": normalised score, "threshold": t, "raw": raw}} over all files."""
    rows = [file_rows(ts, sc, win) for ts, sc, win in files.values()]
    n_windows = sum(r.n_windows for r in rows)
    out = {}
    for name, profile in PROFILES.items():
        raw, thr = sweep(rows, profile)
        out[name] = {"score": round(normalised(raw, n_windows, profile), 2), "threshold": thr, "raw": raw}
    return out


def raw_at(rows: list[FileRows], profile: Mapping[str, float], threshold: float) -> tuple[float, int]:
    """(raw score, false positives) of the files at one threshold (earliest detection per window)."""
    raw, false_positives = 0.0, 0
    for r in rows:
        fired = r.scores >= threshold
        outside = fired & (r.window < 0)
        false_positives += int(outside.sum())
        raw -= profile["fp"] * float(r.fp_unit[outside].sum())
        for w in range(r.n_windows):
            hits = np.flatnonzero(fired & (r.window == w))
            raw += profile["tp"] * float(r.tp_unit[hits[0]]) if len(hits) else -profile["fn"]
    return raw, false_positives


def category_scores(
    files: Mapping[str, tuple[Sequence, Sequence[float], Iterable[tuple]]], thresholds: Mapping[str, float]
) -> dict[str, dict]:
    """Per category (the folder of `<category>/<name>.csv`), each profile's normalised score at the
    corpus-wide threshold of that profile (None for a category without windows), and the false
    positives at the standard threshold."""
    groups: dict[str, list[FileRows]] = {}
    for rel, (ts, sc, win) in sorted(files.items()):
        groups.setdefault(rel.split("/")[0], []).append(file_rows(ts, sc, win))
    out = {}
    for category, rows in groups.items():
        n_windows = sum(r.n_windows for r in rows)
        entry: dict = {}
        for name, profile in PROFILES.items():
            raw, false_positives = raw_at(rows, profile, thresholds[name])
            entry[SHORT_NAMES[name]] = round(normalised(raw, n_windows, profile), 2) if n_windows else None
            entry.setdefault("false_positives", false_positives)  # at the standard threshold
        out[category] = entry
    return out


def load_windows(path: str | Path) -> dict[str, list[tuple[str, str]]]:
    """combined_windows.json with timestamps normalised to 'YYYY-MM-DD HH:MM:SS'."""
    data = json.loads(Path(path).read_text())
    return {rel: [(_plain(a), _plain(b)) for a, b in wins] for rel, wins in data.items()}


def _plain(stamp: str) -> str:
    return stamp.strip()[:19]


# ----- running the production detector over a NAB-layout corpus -------------------------------


def read_series_csv(path: str | Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(timestamp strings, unix seconds, values) of a `timestamp,value` file, in file order."""
    stamps, values = [], []
    with open(path) as handle:
        next(handle)
        for line in handle:
            if not line.strip():
                continue
            stamp, value = line.rstrip("\n").split(",")[:2]
            stamps.append(stamp.strip())
            values.append(float(value))
    unix = np.array([np.datetime64(s.replace(" ", "T")[:19], "s").astype(np.int64) for s in stamps], dtype=float)
    return stamps, unix, np.asarray(values, dtype=float)


def detect_series(unix: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Stream one series through the production Detector, retraining its models whenever it asks,
    on the history seen so far (as the Celery job does). Row i's score uses rows 0..i only."""
    det = Detector()
    out = np.empty(len(values))
    for i, (t, v) in enumerate(zip(unix.tolist(), values.tolist(), strict=True)):
        out[i] = det.update(t, v).score
        if det.needs_training():
            det.set_models(train_models(unix[: i + 1], values[: i + 1]))
    return out


def corpus_files(data_dir: str | Path) -> list[str]:
    """`<category>/<name>.csv` paths under data_dir, sorted."""
    root = Path(data_dir)
    return sorted(str(p.relative_to(root)) for p in root.glob("*/*.csv"))


def run_file(data_dir: str | Path, rel: str, out_dir: str | Path) -> tuple[str, list[str], np.ndarray]:
    """Score one corpus file and write OUT_DIR/<rel> as `timestamp,value,anomaly_score`."""
    stamps, unix, values = read_series_csv(Path(data_dir) / rel)
    scores = detect_series(unix, values)
    write_scores(out_dir, rel, stamps, values, scores)
    return rel, stamps, scores


def write_scores(out_dir: str | Path, rel: str, stamps: Sequence[str], values: np.ndarray, scores: np.ndarray) -> None:
    """OUT_DIR/<rel> as `timestamp,value,anomaly_score` (NAB's results layout)."""
    target = Path(out_dir) / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w") as handle:
        handle.write("timestamp,value,anomaly_score\n")
        for stamp, value, score in zip(stamps, values.tolist(), scores.tolist(), strict=True):
            handle.write(f"{stamp},{value!r},{score:.6f}\n")
