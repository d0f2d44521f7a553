"""Suggested changes for noisy rules, each replayed by the rule backtest: add a `for` of 5, 10 or
15 minutes, raise the threshold past most short spikes, or delete. Backtests are slow, so only
the top rules get one and each result is cached for an hour (keyed by the rule's last edit)."""

from __future__ import annotations

import copy
import logging
from datetime import datetime
from datetime import timedelta as td
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.utils import timezone

from alerts.evaluators import registry
from alerts.selectors import rules_by_id
from alerts.services.rules import MAX_BACKTEST_DAYS, rule_backtest
from recommendations.quality import calculations as calc
from recommendations.quality.selectors import Row

if TYPE_CHECKING:
    from alerts.models import AlertRule

logger = logging.getLogger(__name__)
FOR_MINUTES = (5, 10, 15)
SHORT_S = 15 * 60  # a firing shorter than this is a spike
CACHE_S = 3600
TOP_RULES = 10


def _fired(rule: AlertRule, days: int, now: datetime, **changes) -> tuple[int, list]:
    trial = copy.copy(rule)  # never saved: the backtest replays the in-memory settings
    for name, value in changes.items():
        setattr(trial, name, value)
    result = rule_backtest(rule=trial, days=days, now=now)
    return result.count, result.firings


def compute(*, rule: AlertRule, row: Row, days: int = MAX_BACKTEST_DAYS, now: datetime | None = None) -> dict:
    """Backtest the rule as it is and with each candidate change; the chosen one and its effect."""
    now = now or timezone.now()
    days = min(days, MAX_BACKTEST_DAYS)
    out = {"rule_id": rule.id, "days": days, "computed_at": now.isoformat(), "candidates": [], "chosen": None}
    try:
        baseline, firings = _fired(rule, days, now)
    except Exception as exc:  # a rule kind without replay, a bad matcher …: no suggestion, say why
        logger.warning("backtest of rule %s failed: %s", rule.id, exc)
        out["error"] = f"backtest failed: {exc}"
        return out
    out["baseline"] = baseline
    candidates = []
    if calc.may_delete(auto_resolved=row.quality.auto_resolved, acknowledged=row.quality.acknowledged):
        candidates.append(calc.Candidate("delete", None, 0))
    current_for = rule.for_duration.total_seconds() / 60
    for minutes in FOR_MINUTES:
        if minutes > current_for:
            fired, _ = _fired(rule, days, now, for_duration=td(minutes=minutes))
            candidates.append(calc.Candidate("for", float(minutes), fired))
    if rule.kind == "threshold" and rule.critical_threshold is not None:
        peaks = [f.peak for f in firings if f.peak is not None and (f.duration_s or 0) < SHORT_S]
        higher = registry.get(rule.kind).higher_is_worse(rule)
        value = calc.raised_threshold(peaks, current=rule.critical_threshold, higher_is_worse=higher)
        if value is not None:
            fired, _ = _fired(rule, days, now, critical_threshold=value)
            candidates.append(calc.Candidate("threshold", value, fired))
    chosen = calc.choose(baseline, candidates)
    out["candidates"] = [{"change": c.change, "value": c.value, "fired": c.fired, "label": c.label} for c in candidates]
    if chosen is not None:
        out["chosen"] = {
            "change": chosen.change,
            "value": chosen.value,
            "fired": chosen.fired,
            "label": chosen.label,
            "effect": f"would have fired {chosen.fired} instead of {baseline} times in the last {days} days",
        }
    return out


def cache_key(rule: AlertRule, days: int) -> str:
    return f"quality:suggestion:{rule.id}:{int(rule.updated_at.timestamp())}:{days}"


def cached(*, rule: AlertRule, days: int = MAX_BACKTEST_DAYS) -> dict | None:
    return cache.get(cache_key(rule, min(days, MAX_BACKTEST_DAYS)))


def suggestion(*, rule: AlertRule, row: Row, days: int = MAX_BACKTEST_DAYS, now: datetime | None = None) -> dict:
    """The cached suggestion, or a fresh one (then cached for an hour)."""
    days = min(days, MAX_BACKTEST_DAYS)
    key = cache_key(rule, days)
    found = cache.get(key)
    if found is None:
        found = compute(rule=rule, row=row, days=days, now=now)
        cache.set(key, found, CACHE_S)
    return found


def noisy_rules(rows: list[Row], *, limit: int = TOP_RULES) -> list[tuple[Row, AlertRule]]:
    """The noisiest rules (rows from quality(by="rule")) with their rule objects."""
    ranked = [r for r in rows if r.id is not None and r.quality.noise > 0][:limit]
    rules = rules_by_id(ids=[r.id for r in ranked])
    return [(r, rules[r.id]) for r in ranked if r.id in rules]
