"""A PromQL subset, parsed by `promql-parser` (a real PromQL grammar) and evaluated with numpy
over every evaluation time at once.

Supported: vector selectors with the four matcher kinds, range vectors as function arguments,
`rate`, `irate`, `increase`, `delta`, `*_over_time`, `sum`/`avg`/`min`/`max`/`count` with
`by`/`without`, `topk`/`bottomk`, arithmetic and comparisons (with `bool`) between scalars,
a vector and a scalar, or two vectors with identical labels (one-to-one, no `on`/`ignoring`),
unary minus, parentheses and `offset`. Anything else raises `Unsupported` naming the part.

Values: a vector is a dict from a label set (a sorted tuple of pairs, `__name__` included) to
an array of one value per evaluation time, NaN where the series has no sample; a scalar is an
array. Selectors take the newest sample within the 5-minute look-back (left-open, as
Prometheus 3), or, for a long range at an hourly step, the newest of the hour before (rollups).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import promql_parser as pp

from metrics.matchers import Matcher, MatcherError, make
from metrics.promql import data
from metrics.promql.functions import RANGE_FUNCTIONS, apply

LOOKBACK_S = 300.0
ROLLUP_MIN_SPAN_S = 6 * 3600
AGGREGATIONS = ("sum", "avg", "min", "max", "count", "topk", "bottomk")
ARITHMETIC = ("+", "-", "*", "/", "%", "^")
COMPARISON = ("==", "!=", ">", "<", ">=", "<=")
NAN_REDUCERS = {"sum": np.nansum, "avg": np.nanmean, "min": np.nanmin, "max": np.nanmax}
MATCH_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}

Labels = tuple[tuple[str, str], ...]


class PromQLError(ValueError):
    """A query the engine refuses (Prometheus' `bad_data`)."""


class Unsupported(PromQLError):
    pass


@dataclass(slots=True)
class Scalar:
    values: np.ndarray


@dataclass(slots=True)
class Vector:
    series: dict[Labels, np.ndarray] = field(default_factory=dict)


@dataclass(slots=True)
class Context:
    team_ids: list[int]
    times: np.ndarray  # evaluation times, unix seconds
    step: float


def parse(query: str):
    if not isinstance(query, str) or not query.strip():
        raise PromQLError("query: empty")
    if len(query) > 10_000:
        raise PromQLError("query: longer than 10,000 characters")
    try:
        return pp.parse(query)
    except (ValueError, TypeError) as exc:
        raise PromQLError(f"parse error: {exc}") from None


def evaluate(query: str, *, team_ids: list[int], times: np.ndarray, step: float) -> Scalar | Vector:
    expr = parse(query)
    ctx = Context(team_ids=team_ids, times=np.asarray(times, dtype=np.float64), step=step)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices in nan-aggregations
        return _eval(expr, ctx)


def _eval(expr, ctx: Context) -> Scalar | Vector:
    if isinstance(expr, pp.NumberLiteral):
        return Scalar(np.full(len(ctx.times), float(expr.val)))
    if isinstance(expr, pp.ParenExpr):
        return _eval(expr.expr, ctx)
    if isinstance(expr, pp.UnaryExpr):
        return _binary("*", Scalar(np.full(len(ctx.times), -1.0)), _eval(expr.expr, ctx), bool_=False)
    if isinstance(expr, pp.VectorSelector):
        return _selector(expr, ctx)
    if isinstance(expr, pp.Call):
        return _call(expr, ctx)
    if isinstance(expr, pp.AggregateExpr):
        return _aggregate(expr, ctx)
    if isinstance(expr, pp.BinaryExpr):
        return _binary_expr(expr, ctx)
    if isinstance(expr, pp.MatrixSelector):
        raise Unsupported("a range vector is only supported as the argument of a range function (e.g. rate)")
    if isinstance(expr, pp.SubqueryExpr):
        raise Unsupported("subqueries are not supported")
    if isinstance(expr, pp.StringLiteral):
        raise Unsupported("string literals are not supported")
    raise Unsupported(f"{type(expr).__name__} is not supported")


def selector_matchers(selector) -> list[Matcher]:
    if selector.at is not None:
        raise Unsupported("the @ modifier is not supported")
    if selector.matchers.or_matchers:
        raise Unsupported("'or' inside a selector is not supported")
    out = []
    if selector.name:
        out.append(Matcher("__name__", "=", selector.name))
    for m in selector.matchers.matchers:
        op = MATCH_OPS[str(m.op).rsplit(".", 1)[-1]]
        try:
            out.append(make(m.name, op, m.value, where=f"matcher {m.name}"))
        except MatcherError as exc:
            raise PromQLError(str(exc)) from None
    return out


def _offset(selector) -> float:
    return selector.offset.total_seconds() if selector.offset is not None else 0.0


def _key(labels: dict[str, str], *, drop_name: bool = False) -> Labels:
    return tuple(sorted((k, v) for k, v in labels.items() if v != "" and not (drop_name and k == "__name__")))


def _selector(selector, ctx: Context) -> Vector:
    matchers = selector_matchers(selector)
    times = ctx.times - _offset(selector)
    start, end = float(times[0]), float(times[-1])
    hourly = ctx.step >= 3600 and ctx.step % 3600 == 0 and end - start > ROLLUP_MIN_SPAN_S
    found = None
    if hourly:
        found = data.select_hourly_last(team_ids=ctx.team_ids, matchers=matchers, start_s=start - 3600, end_s=end)
    lookback = 3600.0 if found is not None else LOOKBACK_S
    if found is None:
        found = data.select(team_ids=ctx.team_ids, matchers=matchers, start_s=start - lookback, end_s=end)
    out = Vector()
    for series in found:
        idx = np.searchsorted(series.ts, times, side="right") - 1
        values = np.full(len(times), np.nan)
        if len(series.ts):
            ok = idx >= 0
            ok[ok] = series.ts[idx[ok]] > times[ok] - lookback
            values[ok] = series.values[idx[ok]]
        if not np.all(np.isnan(values)):
            out.series[_key(series.labels)] = values
    return out


def _call(call, ctx: Context) -> Vector:
    name = call.func.name
    if name not in RANGE_FUNCTIONS:
        raise Unsupported(f"function {name}() is not supported")
    if len(call.args) != 1 or not isinstance(call.args[0], pp.MatrixSelector):
        raise Unsupported(f"{name}() is supported with a range vector selector argument only (e.g. {name}(x[5m]))")
    matrix = call.args[0]
    selector = matrix.vector_selector
    range_s = matrix.range.total_seconds()
    times = ctx.times - _offset(selector)
    matchers = selector_matchers(selector)
    start, end = float(times[0]) - range_s, float(times[-1])
    found = data.select(team_ids=ctx.team_ids, matchers=matchers, start_s=start, end_s=end)
    out = Vector()
    for series in found:
        values = apply(name, series.ts, series.values, times, range_s)
        if not np.all(np.isnan(values)):
            _put(out, _key(series.labels, drop_name=True), values)
    return out


def _put(vector: Vector, key: Labels, values: np.ndarray) -> None:
    if key in vector.series:
        raise data.QueryLimitError("vector cannot contain metrics with the same labelset")
    vector.series[key] = values


def _group_key(key: Labels, modifier) -> Labels:
    if modifier is None:
        return ()
    names = set(modifier.labels)
    if str(modifier.type).endswith("By"):
        return tuple((k, v) for k, v in key if k in names)
    return tuple((k, v) for k, v in key if k not in names and k != "__name__")


def _aggregate(agg, ctx: Context) -> Vector:
    op = str(agg.op)
    if op not in AGGREGATIONS:
        raise Unsupported(f"aggregation {op} is not supported")
    inner = _eval(agg.expr, ctx)
    if not isinstance(inner, Vector):
        raise PromQLError(f"{op} expects an instant vector")
    groups: dict[Labels, list[Labels]] = {}
    for key in inner.series:
        groups.setdefault(_group_key(key, agg.modifier), []).append(key)
    out = Vector()
    if op in ("topk", "bottomk"):
        k = _param_k(agg.param, op)
        for members in groups.values():
            _top(out, inner, members, k, largest=op == "topk")
        return out
    for group, members in groups.items():
        stack = np.vstack([inner.series[m] for m in members])
        present = (~np.isnan(stack)).sum(axis=0)
        value = present.astype(np.float64) if op == "count" else NAN_REDUCERS[op](stack, axis=0)
        value = np.where(present > 0, value, np.nan)
        if not np.all(np.isnan(value)):
            out.series[group] = value
    return out


def _param_k(param, op: str) -> int:
    if not isinstance(param, pp.NumberLiteral):
        raise Unsupported(f"{op} needs a number literal as its first argument")
    return int(param.val)


def _top(out: Vector, inner: Vector, members: list[Labels], k: int, *, largest: bool) -> None:
    stack = np.vstack([inner.series[m] for m in members])
    keyed = np.where(np.isnan(stack), -np.inf if largest else np.inf, stack)
    order = np.argsort(-keyed if largest else keyed, axis=0, kind="stable")
    chosen = np.zeros_like(stack, dtype=bool)
    for rank in range(min(max(k, 0), len(members))):
        chosen[order[rank], np.arange(stack.shape[1])] = True
    chosen &= ~np.isnan(stack)
    for i, member in enumerate(members):
        values = np.where(chosen[i], stack[i], np.nan)
        if not np.all(np.isnan(values)):
            out.series[member] = values


def _binary_expr(expr, ctx: Context) -> Scalar | Vector:
    op = str(expr.op)
    if op not in ARITHMETIC + COMPARISON:
        raise Unsupported(f"the binary operator {op} is not supported")
    modifier = expr.modifier
    if modifier is not None and (modifier.matching is not None or str(modifier.card).rsplit(".", 1)[-1] != "OneToOne"):
        raise Unsupported("vector matching with on/ignoring/group_left/group_right is not supported")
    bool_ = bool(modifier is not None and modifier.return_bool)
    if bool_ and op not in COMPARISON:
        raise PromQLError("bool modifier can only be used on comparison operators")
    return _binary(op, _eval(expr.lhs, ctx), _eval(expr.rhs, ctx), bool_=bool_)


def _compute(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    if op == "%":
        return np.fmod(a, b)
    if op == "^":
        return np.power(a, b)
    return {"==": a == b, "!=": a != b, ">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op].astype(np.float64)


def _binary(op: str, lhs, rhs, *, bool_: bool) -> Scalar | Vector:
    comparison = op in COMPARISON
    if isinstance(lhs, Scalar) and isinstance(rhs, Scalar):
        if comparison and not bool_:
            raise PromQLError("comparisons between scalars must use the bool modifier")
        return Scalar(_compute(op, lhs.values, rhs.values))
    if isinstance(lhs, Vector) and isinstance(rhs, Vector):
        pairs = _one_to_one(lhs, rhs)
    elif isinstance(lhs, Vector):
        pairs = [(key, values, rhs.values) for key, values in lhs.series.items()]
    else:
        pairs = [(key, lhs.values, values) for key, values in rhs.series.items()]
    out = Vector()
    keep_side = 0 if isinstance(lhs, Vector) else 1
    for key, a, b in pairs:
        result = _compute(op, a, b)
        missing = np.isnan(a) | np.isnan(b)
        if comparison and not bool_:
            kept = (a, b)[keep_side]
            result = np.where((result == 1.0) & ~missing, kept, np.nan)
            new_key = key
        else:
            result = np.where(missing, np.nan, result)
            new_key = tuple(kv for kv in key if kv[0] != "__name__")
        if not np.all(np.isnan(result)):
            _put(out, new_key, result)
    return out


def _one_to_one(lhs: Vector, rhs: Vector) -> list[tuple[Labels, np.ndarray, np.ndarray]]:
    """Pairs of series whose labels, apart from the metric name, are identical."""
    right: dict[Labels, np.ndarray] = {}
    for key, values in rhs.series.items():
        signature = tuple(kv for kv in key if kv[0] != "__name__")
        if signature in right:
            raise data.QueryLimitError(f"found duplicate series for the match group {dict(signature)} (right side)")
        right[signature] = values
    pairs, seen = [], set()
    for key, values in lhs.series.items():
        signature = tuple(kv for kv in key if kv[0] != "__name__")
        if signature in seen:
            raise data.QueryLimitError(f"found duplicate series for the match group {dict(signature)} (left side)")
        seen.add(signature)
        if signature in right:
            pairs.append((key, values, right[signature]))
    return pairs
