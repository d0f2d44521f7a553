"""Parse and validate ingest payloads into arrays. No Django, no ORM, nothing per sample but checks.

Both formats (HiveOps JSON and Prometheus remote_write) end up as a `Batch`: a list of series
with their canonical label key and numpy arrays of timestamps (microseconds since the Unix
epoch) and values. Validation is complete before anything is written, so a bad item rejects
the whole batch and names the item.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import numpy as np
import orjson

from core import jsonbody, timeparse
from metrics import ingest_fast

METRIC_RE = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:.]*$")
LABEL_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_METRIC_LEN = 200
MAX_LABELS = 32
MAX_LABEL_VALUE_LEN = 1024
MAX_UNIT_LEN = 32
FUTURE_TOLERANCE_S = 600


class IngestError(ValueError):
    """A rejected batch: `item` names where (e.g. series[3].points[17]), `status` is 400 or 413."""

    def __init__(self, item: str, message: str, status: int = 400) -> None:
        super().__init__(f"{item}: {message}")
        self.item = item
        self.message = message
        self.status = status

    def as_dict(self) -> dict:
        return {"error": self.message, "item": self.item}


@dataclass(slots=True)
class ParsedSeries:
    metric: str
    labels_key: str  # canonical JSON of the labels: sorted keys, string values
    unit: str
    ts_us: np.ndarray  # int64 microseconds since 1970-01-01T00:00:00Z
    values: np.ndarray  # float64


@dataclass(slots=True)
class Batch:
    series: list[ParsedSeries] = field(default_factory=list)
    skipped: int = 0  # points dropped on purpose (remote_write staleness markers)

    @property
    def points(self) -> int:
        return sum(len(s.values) for s in self.series)


def canonical_labels(labels: dict[str, str]) -> str:
    return orjson.dumps(labels, option=orjson.OPT_SORT_KEYS).decode()


def check_metric(metric: object, where: str, *, utf8: bool = False) -> str:
    """A metric name: classic `[A-Za-z_:][A-Za-z0-9_:.]*`, or with `utf8` (remote_write, as
    Prometheus 3 sends them) any UTF-8 text without NUL."""
    if not isinstance(metric, str) or not metric:
        raise IngestError(where, "metric must be a non-empty string")
    if utf8 and len(metric) <= MAX_METRIC_LEN and "\x00" not in metric and not jsonbody.has_surrogate(metric):
        return metric
    if len(metric) > MAX_METRIC_LEN or not METRIC_RE.match(metric):
        raise IngestError(where, f"metric {metric[:80]!r} is not a valid metric name ([A-Za-z_:][A-Za-z0-9_:.]*)")
    return metric


def _utf8_name(name: str) -> bool:
    return 0 < len(name) <= MAX_METRIC_LEN and "\x00" not in name and not jsonbody.has_surrogate(name)


def check_labels(labels: object, where: str, *, utf8: bool = False) -> dict[str, str]:
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise IngestError(where, "labels must be an object of string values")
    if len(labels) > MAX_LABELS:
        raise IngestError(where, f"at most {MAX_LABELS} labels per series")
    for name, value in labels.items():
        if not (LABEL_RE.match(name) or (utf8 and isinstance(name, str) and _utf8_name(name))) or name.startswith("__"):
            raise IngestError(f"{where}.{name}"[:200], f"label name {name[:80]!r} is not an identifier")
        if not isinstance(value, str):
            raise IngestError(f"{where}.{name}", "label values must be strings")
        if len(value) > MAX_LABEL_VALUE_LEN:
            raise IngestError(f"{where}.{name}", f"label value longer than {MAX_LABEL_VALUE_LEN} characters")
        if "\x00" in value:
            raise IngestError(f"{where}.{name}", "label values cannot contain NUL characters")
        if jsonbody.has_surrogate(value):
            raise IngestError(f"{where}.{name}", "label value holds a lone surrogate (not valid Unicode)")
    return labels


def parse_timestamp(text: str, where: str) -> float:
    try:
        return timeparse.rfc3339(text, where)
    except timeparse.ParamError as exc:
        if "time zone" in exc.message:
            raise IngestError(where, f"timestamp {text[:40]!r} has no time zone (add Z or an offset)") from None
        if "out of range" in exc.message:
            raise IngestError(where, f"timestamp {exc.message}") from None
        raise IngestError(where, f"timestamp {text[:40]!r} is not RFC 3339 or a number of seconds") from None


def check_time_range(ts_s: np.ndarray, where: str, now_s: float, oldest_s: float | None = None) -> None:
    """Timestamps (seconds) must be finite, not in the future, and not older than `oldest_s`
    (the raw retention: such samples would be dropped at once, or land in no partition)."""
    floor = 0.0 if oldest_s is None else max(oldest_s, 0.0)
    bad = (ts_s < floor) | (ts_s > now_s + FUTURE_TOLERANCE_S) | ~np.isfinite(ts_s)
    if bad.any():
        j = int(np.argmax(bad))
        value = float(ts_s[j])
        if not np.isfinite(value):
            raise IngestError(f"{where}[{j}]", "timestamp must be a finite number")
        if value < 0:
            raise IngestError(f"{where}[{j}]", "timestamp is before 1970")
        if value < floor:
            days = (now_s - floor) / 86400
            message = f"timestamp is older than the retention of raw samples ({days:.0f} days)"
            raise IngestError(f"{where}[{j}]", message)
        hint = " (timestamps are seconds, not milliseconds)" if value > 1e11 else ""
        raise IngestError(f"{where}[{j}]", f"timestamp is more than 10 minutes in the future{hint}")


def find_conflict(
    keys: list[str], offsets: np.ndarray, ts_us: np.ndarray, values: np.ndarray
) -> tuple[int, int] | None:
    """Two points of one series (same key, even from two entries of the batch) at the same timestamp
    with different values: (flat index of the later point, of the earlier one), else None.
    The same value twice is an idempotent duplicate, not a conflict."""
    if len(ts_us) < 2:
        return None
    ids: dict[str, int] = {}
    group_of_series = np.fromiter((ids.setdefault(k, len(ids)) for k in keys), dtype=np.int64, count=len(keys))
    groups = np.repeat(group_of_series, np.diff(offsets))
    order = np.lexsort((ts_us, groups))  # stable: among equal (group, ts) the earlier point comes first
    same = (groups[order][1:] == groups[order][:-1]) & (ts_us[order][1:] == ts_us[order][:-1])
    clash = same & (values[order][1:] != values[order][:-1])
    if not clash.any():
        return None
    n = int(np.argmax(clash))
    first = n
    while first > 0 and same[first - 1]:  # the earliest point of that run of equal timestamps
        first -= 1
    return int(order[n + 1]), int(order[first])


def check_values(values: np.ndarray, where: str) -> None:
    finite = np.isfinite(values)
    if not finite.all():
        j = int(np.argmin(finite))
        raise IngestError(f"{where}[{j}]", "value must be a finite number")


def check_points(points: object, where: str) -> list:
    """Type-check [timestamp, value] pairs; RFC 3339 timestamps become seconds (a new list)."""
    if not isinstance(points, list):
        raise IngestError(where, "points must be a list of [timestamp, value] pairs")
    text_ts: list[int] = []
    for j, point in enumerate(points):
        if type(point) is not list or len(point) != 2:
            raise IngestError(f"{where}[{j}]", "a point is a [timestamp, value] pair")
        ts, value = point
        kind = type(value)
        if kind is not float and kind is not int:
            raise IngestError(f"{where}[{j}]", "value must be a number")
        kind = type(ts)
        if kind is str:
            text_ts.append(j)
        elif kind is not int and kind is not float:
            raise IngestError(f"{where}[{j}]", "timestamp must be seconds since 1970 or an RFC 3339 string")
    if text_ts:
        points = [list(p) for p in points]
        for j in text_ts:
            points[j][0] = parse_timestamp(points[j][0], f"{where}[{j}]")
    return points


def _locate(offsets: np.ndarray, k: int) -> tuple[int, int]:
    """(series index, point index) of the k-th point of the whole batch."""
    i = int(np.searchsorted(offsets, k, side="right")) - 1
    return i, k - int(offsets[i])


def _check_unit(unit: object, where: str) -> str:
    unit = unit or ""
    if not isinstance(unit, str) or len(unit) > MAX_UNIT_LEN or "\x00" in unit:
        raise IngestError(where, f"unit must be a string of at most {MAX_UNIT_LEN} characters, no NUL")
    return unit


def _too_many(total: int, max_points: int) -> None:
    if total > max_points:
        raise IngestError("series", f"{total} points in one request; the limit is {max_points}", status=413)


def _parse_fast(body: bytes, max_points: int) -> tuple[list[tuple[str, str, str]], np.ndarray, list[int]] | None:
    """The common shape through the typed decoder (metrics/ingest_fast.py), or None."""
    decoded = ingest_fast.decode(body)
    if decoded is None:
        return None
    _too_many(decoded.offsets[-1], max_points)
    meta: list[tuple[str, str, str]] = []
    for i, (metric, raw_labels, unit) in enumerate(decoded.meta):
        ingest_fast.metric_ok(metric, f"series[{i}].metric", check_metric)
        key = ingest_fast.labels_key(raw_labels, f"series[{i}].labels", check_labels)
        if key is None:
            return None
        meta.append((metric, key, _check_unit(unit, f"series[{i}].unit")))
    return meta, decoded.pairs, decoded.offsets


def _parse_general(body: bytes, max_points: int) -> tuple[list[tuple[str, str, str]], np.ndarray, list[int]]:
    """Any document: the reference checks, each naming the offending item."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        try:
            # The standard parser accepts NaN, Infinity and 1e999, so the validation below can
            # name the exact point instead of a character offset. It also accepts what orjson
            # refuses on purpose: deep nesting and lone surrogates, which jsonbody rejects.
            doc = jsonbody.loads(body)
        except jsonbody.JSONBodyError as refused:
            raise IngestError(refused.item, refused.message) from None
        except ValueError:
            raise IngestError("body", f"malformed JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("series"), list):
        raise IngestError("series", "body must be an object with a 'series' list")
    raw_series = doc["series"]
    total = 0
    for i, item in enumerate(raw_series):
        if not isinstance(item, dict):
            raise IngestError(f"series[{i}]", "each series must be an object")
        points = item.get("points")
        total += len(points) if isinstance(points, list) else 0
    _too_many(total, max_points)
    # Check every series, then convert and range-check all points at once: the per-series numpy
    # calls used to cost more than the points themselves in scrape-like batches.
    meta: list[tuple[str, str, str]] = []
    flat: list = []
    offsets = [0]
    for i, item in enumerate(raw_series):
        where = f"series[{i}]"
        if "points" not in item:
            raise IngestError(f"{where}.points", "missing field")
        if "metric" not in item:
            raise IngestError(f"{where}.metric", "missing field")
        metric = check_metric(item["metric"], f"{where}.metric")
        labels = check_labels(item.get("labels"), f"{where}.labels")
        unit = _check_unit(item.get("unit"), f"{where}.unit")
        flat.extend(check_points(item["points"], f"{where}.points"))
        offsets.append(len(flat))
        meta.append((metric, canonical_labels(labels), unit))
    try:
        pairs = np.array(flat, dtype=np.float64).reshape(-1, 2)
    except OverflowError:
        raise IngestError("series", "a number is out of range") from None
    return meta, pairs, offsets


def parse_json(body: bytes, *, max_points: int, now_s: float | None = None, max_age_s: float | None = None) -> Batch:
    """`max_age_s`: points older than this many seconds are refused (the HTTP API passes the retention)."""
    now_s = time.time() if now_s is None else now_s
    oldest_s = None if max_age_s is None else now_s - max_age_s
    parsed = _parse_fast(body, max_points)
    meta, pairs, offsets = parsed if parsed is not None else _parse_general(body, max_points)
    bounds = np.asarray(offsets)
    try:
        check_time_range(pairs[:, 0], "", now_s, oldest_s)
        check_values(pairs[:, 1], "")
    except IngestError as exc:  # name the point within its series
        k = int(exc.item.strip("[]"))
        i, j = _locate(bounds, k)
        raise IngestError(f"series[{i}].points[{j}]", exc.message) from None
    ts_us = np.rint(pairs[:, 0] * 1e6).astype(np.int64)
    values = np.ascontiguousarray(pairs[:, 1])
    conflict = find_conflict([f"{m}\x00{k}" for m, k, _ in meta], bounds, ts_us, values)
    if conflict is not None:
        i, j = _locate(bounds, conflict[0])
        a, b = _locate(bounds, conflict[1])
        message = f"a different value for the same series and timestamp as series[{a}].points[{b}]"
        raise IngestError(f"series[{i}].points[{j}]", message)
    batch = Batch()
    for (metric, key, unit), start, end in zip(meta, offsets[:-1], offsets[1:], strict=True):
        if end > start:
            batch.series.append(ParsedSeries(metric, key, unit, ts_us[start:end], values[start:end]))
    return batch
