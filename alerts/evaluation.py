"""Pure rule maths: window aggregation, threshold levels with hysteresis, and the pending/firing
state machine behind `for`. No Django: shared by live evaluation and backtests."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

OK, WARNING, CRITICAL = "ok", "warning", "critical"
RANK = {OK: 0, WARNING: 1, CRITICAL: 2}


def aggregate(ts_s: np.ndarray, values: np.ndarray, how: str) -> float | None:
    """Aggregate a window of samples; None when the window is empty (rate: fewer than 2)."""
    if len(values) == 0:
        return None
    if how == "avg":
        return float(values.mean())
    if how == "min":
        return float(values.min())
    if how == "max":
        return float(values.max())
    if how == "last":
        return float(values[np.argmax(ts_s)])
    if how == "p95":
        return float(np.percentile(values, 95))
    if how == "rate":
        order = np.argsort(ts_s)
        span = float(ts_s[order[-1]] - ts_s[order[0]])
        return None if span <= 0 else float(values[order[-1]] - values[order[0]]) / span
    raise ValueError(f"unknown aggregation {how!r}")


def breaches(value: float, comparator: str, threshold: float) -> bool:
    if comparator == "gt":
        return value > threshold
    if comparator == "gte":
        return value >= threshold
    if comparator == "lt":
        return value < threshold
    if comparator == "lte":
        return value <= threshold
    raise ValueError(f"unknown comparator {comparator!r}")


@dataclass(frozen=True, slots=True)
class Thresholds:
    comparator: str
    critical: float | None
    warning: float | None
    recovery: float | None


def threshold_level(value: float, t: Thresholds, current: str) -> str:
    """The level a value asks for. With a recovery threshold, a firing level holds until the
    value is back past the recovery threshold (hysteresis)."""
    if t.critical is not None and breaches(value, t.comparator, t.critical):
        return CRITICAL
    if t.warning is not None and breaches(value, t.comparator, t.warning):
        return WARNING
    if current != OK and t.recovery is not None and breaches(value, t.comparator, t.recovery):
        return current
    return OK


@dataclass(frozen=True, slots=True)
class State:
    level: str = OK  # the firing level (ok = not firing)
    pending_level: str = ""  # breaching, waiting for `for`
    pending_since: float | None = None  # unix seconds


@dataclass(frozen=True, slots=True)
class Step:
    state: State
    transition: str | None  # pending, firing, changed, resolved, pending_cleared or None


def advance(state: State, wanted: str, now: float, for_s: float) -> Step:
    """Move the state machine one evaluation forward."""
    if wanted == OK:
        if state.level != OK:
            return Step(State(), "resolved")
        if state.pending_level:
            return Step(State(), "pending_cleared")
        return Step(state, None)
    if state.level != OK:
        if wanted != state.level:
            return Step(replace(state, level=wanted), "changed")
        return Step(state, None)
    since = state.pending_since if state.pending_level else now
    if now - since >= for_s:
        return Step(State(level=wanted), "firing")
    if not state.pending_level:
        return Step(State(pending_level=wanted, pending_since=now), "pending")
    # Still pending: keep the earliest start, take the worst level seen.
    worst = wanted if RANK[wanted] > RANK[state.pending_level] else state.pending_level
    return Step(replace(state, pending_level=worst), None)


@dataclass(frozen=True, slots=True)
class Firing:
    start: float
    end: float | None  # None: still firing at the end of the backtest
    level: str
    peak: float | None


def replay(
    times: np.ndarray, values: list[float | None], levels, for_s: float, *, higher_is_worse: bool = True
) -> list[Firing]:
    """Run the state machine over evaluation times; `levels(value, current)` maps a value to a
    wanted level. Returns the firing intervals (for backtests)."""
    worse = max if higher_is_worse else min
    state, out, start, peak, worst = State(), [], None, None, OK
    for now, value in zip(times.tolist(), values, strict=True):
        if value is None:
            continue  # no data: hold the state, as live evaluation does
        step = advance(state, levels(value, state.level), now, for_s)
        state = step.state
        if step.transition == "firing":
            start, peak, worst = now, value, state.level
        elif step.transition in ("changed", None) and state.level != OK:
            peak = value if peak is None else worse(peak, value)
            worst = state.level if RANK[state.level] > RANK[worst] else worst
        elif step.transition == "resolved":
            out.append(Firing(start, now, worst, peak))
            start = None
    if start is not None:
        out.append(Firing(start, None, worst, peak))
    return out
