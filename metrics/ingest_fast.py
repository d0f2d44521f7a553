"""The fast lane of JSON ingest: a typed msgspec decode of well-formed batches.

Profiling the ingest path (docs/architecture.md, "Hot paths: where the time goes") showed the
web process spending most of its CPU on turning the body into Python objects and checking them
point by point. A typed decoder does the shape and type checks in C while it parses: a body
whose points are all `[number, number]` pairs and whose fields have the right types comes out
as flat floats, with no Python loop per point. Labels are kept as raw JSON and validated once
per distinct label set (a bounded cache), since scrapers send the same label sets every time.

Anything else (RFC 3339 timestamps, wrong types, NaN, deep nesting, lone surrogates, malformed
JSON) makes `decode` return None, and the caller takes the general path in metrics/ingest.py,
which accepts the same documents and names the offending item in its 4xx. So the fast lane never
changes what is accepted or refused; it only makes the common case cheap.
"""

from __future__ import annotations

import itertools

import msgspec
import numpy as np
import orjson

from core import jsonbody

MAX_CACHED_LABEL_SETS = 200_000


class _Series(msgspec.Struct):
    metric: str
    points: list[tuple[float, float]]
    labels: msgspec.Raw = msgspec.Raw(b"null")
    unit: str | None = None


class _Body(msgspec.Struct):
    series: list[_Series]


_decoder = msgspec.json.Decoder(_Body)
# raw labels JSON -> canonical labels key; only label sets that passed check_labels get in.
_label_keys: dict[bytes, str] = {}
_good_metrics: set[str] = set()


class Decoded:
    """What the general path also produces: per-series (metric, raw labels, unit), the flat
    [timestamp, value] pairs and the offsets of each series in them."""

    __slots__ = ("meta", "offsets", "pairs")

    def __init__(self, meta: list[tuple[str, bytes, str]], pairs: np.ndarray, offsets: list[int]) -> None:
        self.meta = meta
        self.pairs = pairs
        self.offsets = offsets


def decode(body: bytes) -> Decoded | None:
    """The batch if it has the common, well-typed shape; None sends the caller the general way."""
    try:
        doc = _decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeError):
        return None
    meta: list[tuple[str, bytes, str]] = []
    offsets = [0]
    total = 0
    for item in doc.series:
        unit = item.unit or ""
        if not unit.isascii() and jsonbody.has_surrogate(unit):
            return None
        total += len(item.points)
        offsets.append(total)
        meta.append((item.metric, bytes(item.labels), unit))
    flat = itertools.chain.from_iterable(itertools.chain.from_iterable(item.points for item in doc.series))
    pairs = np.fromiter(flat, dtype=np.float64, count=2 * total).reshape(-1, 2)
    return Decoded(meta, pairs, offsets)


def labels_key(raw: bytes, where: str, check) -> str | None:
    """Canonical key of raw labels JSON, validated by `check(labels, where)`
    (metrics.ingest.check_labels, which raises the 400) on first sight; None when orjson cannot
    read them (the general path then says why)."""
    key = _label_keys.get(raw)
    if key is not None:
        return key
    try:
        labels = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    key = orjson.dumps(check(labels, where), option=orjson.OPT_SORT_KEYS).decode()
    if len(_label_keys) >= MAX_CACHED_LABEL_SETS:
        _label_keys.clear()
    _label_keys[raw] = key
    return key


def metric_ok(metric: str, where: str, check) -> None:
    """`check(metric, where)` (metrics.ingest.check_metric) once per distinct good metric name."""
    if metric not in _good_metrics:
        check(metric, where)
        if len(_good_metrics) >= MAX_CACHED_LABEL_SETS:
            _good_metrics.clear()
        _good_metrics.add(metric)
