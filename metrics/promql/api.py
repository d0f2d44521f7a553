"""`/prometheus/api/v1/`: the Prometheus HTTP API as Grafana's Prometheus data source and
`promtool query` call it (GET, and form-encoded POST), answered from HiveOps' series with the
PromQL subset of `metrics/promql/engine.py`.

Envelope and errors as Prometheus: `{"status": "success", "data": …}`, or `{"status": "error",
"errorType": "bad_data" (400) | "execution" (422) | "timeout" (503), "error": "…"}`. Sample
values are strings (Go's shortest decimal, `+Inf`, `-Inf`, `NaN`); times are unix seconds.
`series`, `labels` and `label/<name>/values` list the caller's series regardless of `start`/`end`
(HiveOps keeps series until they are deleted)."""

from __future__ import annotations

import math
import time

import numpy as np
import orjson
import promql_parser as pp
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from core.teams.protocol_auth import CHALLENGE, ProtocolAuthError, protocol_caller
from core.timeparse import ParamError, instant
from metrics.matchers import Matcher
from metrics.promql import data, engine
from metrics.selectors import series_list, series_matching

MAX_POINTS = 11_000  # per series, as Prometheus
BUILD_INFO = {
    "version": "2.42.0",
    "revision": "hiveops",
    "branch": "hiveops",
    "buildUser": "hiveops",
    "buildDate": "20260101-00:00:00",
    "goVersion": "n/a",
}


class ApiError(Exception):
    STATUS = {"bad_data": 400, "execution": 422, "timeout": 503, "not_found": 404}

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _json(payload: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(payload), status=status, content_type="application/json")


def _error(kind: str, message: str, status: int) -> HttpResponse:
    return _json({"status": "error", "errorType": kind, "error": message}, status)


def endpoint(handler):
    """GET or form POST; authentication with the read scope; Prometheus' error envelope."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "POST"):
            return _error("bad_data", "use GET or POST", 405)
        params = request.POST if request.method == "POST" else request.GET
        try:
            caller = protocol_caller(request, "read")
            result = handler(params, caller.team_ids, **kwargs)
        except ProtocolAuthError as exc:
            response = _error("unauthorized" if exc.status == 401 else "forbidden", exc.message, exc.status)
            if exc.status == 401:
                response["WWW-Authenticate"] = CHALLENGE
            if exc.retry_after:
                response["Retry-After"] = str(exc.retry_after)
            return response
        except ApiError as exc:
            return _error(exc.kind, exc.message, ApiError.STATUS[exc.kind])
        except ParamError as exc:
            return _error("bad_data", f"invalid parameter {exc.field!r}: {exc.message}", 400)
        except data.QueryLimitError as exc:
            return _error("execution", str(exc), 422)
        except engine.PromQLError as exc:
            return _error("bad_data", str(exc), 400)
        return _json({"status": "success", "data": result})

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return view


def number(value: float) -> str:
    """Go's strconv.FormatFloat(v, 'f', -1, 64) as Prometheus writes sample values."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = np.format_float_positional(value, unique=True, trim="-")
    return text[:-2] if text.endswith(".0") else text


def _time(params, name: str, default: float | None = None) -> float:
    value = params.get(name)
    if default is not None and (value is None or value == ""):
        return default
    return instant(value, name).timestamp()


def _step(params) -> float:
    raw = params.get("step")
    if not raw:
        raise ApiError("bad_data", "invalid parameter 'step': required")
    try:
        step = float(raw)
    except ValueError:
        try:
            step = pp.parse_duration(raw).total_seconds()
        except ValueError:
            raise ApiError("bad_data", f"invalid parameter 'step': {raw[:40]!r} is not a duration or seconds") from None
    if not math.isfinite(step) or step <= 0:
        raise ApiError(
            "bad_data", "zero or negative query resolution step widths are not accepted. Try a positive integer"
        )
    return step


def _labels(key) -> dict[str, str]:
    return dict(key)


def _timestamp(t: float) -> float | int:
    return int(t) if float(t).is_integer() else round(float(t), 3)


@endpoint
def query(params, team_ids: list[int]) -> dict:
    """An instant query at `time` (default now)."""
    at = _time(params, "time", default=time.time())
    result = engine.evaluate(params.get("query", ""), team_ids=team_ids, times=np.array([at]), step=0.0)
    stamp = _timestamp(at)
    if isinstance(result, engine.Scalar):
        return {"resultType": "scalar", "result": [stamp, number(result.values[0])]}
    return {
        "resultType": "vector",
        "result": [
            {"metric": _labels(key), "value": [stamp, number(values[0])]}
            for key, values in sorted(result.series.items())
            if not math.isnan(values[0])
        ],
    }


@endpoint
def query_range(params, team_ids: list[int]) -> dict:
    """A range query: `start`, `end`, `step` (seconds or a duration like 1h)."""
    start, end, step = _time(params, "start"), _time(params, "end"), _step(params)
    if end < start:
        raise ApiError("bad_data", "invalid parameter 'end': end timestamp must not be before start time")
    if (end - start) / step + 1 > MAX_POINTS:
        message = "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution"
        raise ApiError("bad_data", f"{message} (?step=XX)")
    times = np.arange(start, end + step / 2, step)
    result = engine.evaluate(params.get("query", ""), team_ids=team_ids, times=times, step=step)
    if isinstance(result, engine.Scalar):
        result = engine.Vector({(): result.values})
    stamps = [_timestamp(t) for t in times]
    out = []
    for key, values in sorted(result.series.items()):
        points = [[stamps[i], number(v)] for i, v in enumerate(values.tolist()) if not math.isnan(v)]
        if points:
            out.append({"metric": _labels(key), "values": points})
    return {"resultType": "matrix", "result": out}


def _selected(params, team_ids: list[int], *, required: bool) -> list:
    """The series chosen by `match[]` selectors (any of them), or all the caller's series."""
    selectors = params.getlist("match[]")
    if not selectors:
        if required:
            raise ApiError("bad_data", "no match[] parameter provided")
        return list(series_list(team_ids=team_ids)[: data.MAX_SERIES])
    found: dict[int, object] = {}
    for text in selectors:
        expr = engine.parse(text)
        if not isinstance(expr, pp.VectorSelector):
            raise ApiError("bad_data", f"match[]: {text[:80]!r} is not a series selector")
        matchers: list[Matcher] = engine.selector_matchers(expr)
        if all(m.matches({}) for m in matchers):
            raise ApiError("bad_data", "match[] must contain at least one non-empty matcher")
        for series in series_matching(team_ids=team_ids, matchers=matchers, limit=data.MAX_SERIES):
            found[series.id] = series
    return list(found.values())


def _label_set(series) -> dict[str, str]:
    return {"__name__": series.metric, **{k: v for k, v in series.labels.items() if v != ""}}


@endpoint
def series(params, team_ids: list[int]) -> list:
    """Label sets of the series that `match[]` selects."""
    return [_label_set(s) for s in _selected(params, team_ids, required=True)]


@endpoint
def labels(params, team_ids: list[int]) -> list:
    """Label names of the caller's series (of those `match[]` selects, if given)."""
    names = {"__name__"}
    for s in _selected(params, team_ids, required=False):
        names.update(k for k, v in s.labels.items() if v != "")
    return sorted(names)


@endpoint
def label_values(params, team_ids: list[int], name: str) -> list:
    """Values of one label (`__name__`: the metric names)."""
    values = {_label_set(s).get(name) for s in _selected(params, team_ids, required=False)}
    values.discard(None)
    return sorted(values)


@endpoint
def metadata(params, team_ids: list[int]) -> dict:
    """Per metric: its unit (HiveOps keeps no type or help text, so type is `unknown`)."""
    wanted = params.get("metric")
    out: dict[str, list] = {}
    for s in series_list(team_ids=team_ids, metric=wanted or None)[: data.MAX_SERIES]:
        entry = {"type": "unknown", "help": "", "unit": s.unit}
        if entry not in out.setdefault(s.metric, []):
            out[s.metric].append(entry)
    return out


@endpoint
def buildinfo(params, team_ids: list[int]) -> dict:
    """The Prometheus version whose API this one follows (Grafana picks features by it)."""
    return BUILD_INFO
