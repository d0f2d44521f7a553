"""Rule evaluation (live, on ingest and periodically) and backtests over stored data."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from django.db import transaction
from django.utils import timezone

from alerts.evaluation import CRITICAL, OK, State, advance, replay
from alerts.evaluators import registry
from alerts.models import Alert, AlertRule, RuleState
from alerts.models.alerts import OPEN_STATUSES
from alerts.services.alerts import Signal, alert_raise, alert_resolve, fingerprint_for
from alerts.templating import render
from metrics.matchers import matches
from metrics.selectors import series_list

DEFAULT_SUMMARY = AlertRule._meta.get_field("summary_template").default
MAX_BACKTEST_DAYS = 30
MAX_BACKTEST_SERIES = 200


def rule_series(rule: AlertRule, *, series_ids: list[int] | None = None) -> list:
    """The series a rule watches: its metric, equality matchers in SQL, the rest in Python."""
    equal = {m["name"]: m["value"] for m in rule.matchers if m.get("op", "=") == "=" and m["value"]}
    qs = series_list(team_ids=[rule.team_id], metric=rule.metric, labels=equal or None)
    if series_ids is not None:
        qs = qs.filter(id__in=series_ids)
    return [s for s in qs if matches(rule.matchers, s.labels)]


def alert_labels(rule: AlertRule, series) -> dict[str, str]:
    labels = dict(series.labels) if series is not None else {}
    labels.update({"alertname": rule.name, "metric": rule.metric})
    if rule.service_id and "service" not in labels:
        labels["service"] = rule.service.slug
    labels.update({k: str(v) for k, v in rule.labels.items()})
    return labels


def _signal(rule: AlertRule, series, level: str, value: float | None, status: str, now: datetime) -> Signal:
    labels = alert_labels(rule, series)
    value = value if value is not None and math.isfinite(value) else None  # "never seen" is infinite
    context = {"labels": labels, "value": value, "rule": {"name": rule.name}, "metric": rule.metric, "level": level}
    evaluator = registry.get(rule.kind)
    extra = evaluator.explain(rule, series, value, now) if hasattr(evaluator, "explain") else {}
    summary = render(rule.summary_template, context)
    if extra.get("summary") and rule.summary_template == DEFAULT_SUMMARY:
        summary = extra["summary"]
    return Signal(
        team_id=rule.team_id,
        source="rule",
        fingerprint=fingerprint_for("rule", rule.id, labels),
        labels=labels,
        severity=rule.severity if level == CRITICAL else rule.warning_severity,
        summary=summary,
        description=render(rule.description_template, context),
        runbook_url=rule.runbook_url,
        status=status,
        actor_name=f"rule {rule.name}",
        service_id=rule.service_id,
        rule_id=rule.id,
        series_id=series.id if series is not None else None,
        value=value,
        at=now,
        annotations={"condition": evaluator.describe(rule), **extra.get("annotations", {})},
    )


@dataclass
class EvaluationReport:
    series: int = 0
    transitions: int = 0


def rule_evaluate(
    *, rule: AlertRule, now: datetime | None = None, series_ids: list[int] | None = None
) -> EvaluationReport:
    now = now or timezone.now()
    evaluator = registry.get(rule.kind)
    series = rule_series(rule, series_ids=series_ids)
    values = evaluator.observe(rule, series, now)
    by_id = {s.id: s for s in series}
    states = {s.series_id: s for s in RuleState.objects.filter(rule=rule, series_id__in=[k for k in values if k])}
    if None in values:
        no_series = RuleState.objects.filter(rule=rule, series=None).first()
        if no_series is not None:
            states[None] = no_series
    report = EvaluationReport(series=len(values))
    for series_id, value in values.items():
        if value is None:
            continue  # no data in the window: hold whatever state the series is in
        known = states.get(series_id)
        current = known.level if known else OK
        wanted = evaluator.level(rule, value, current, series=by_id.get(series_id))
        if known is None and wanted == OK:
            continue  # the common case: nothing to remember, nothing to lock
        if known is not None and wanted == known.level == OK and not known.pending_level:
            continue
        report.transitions += _apply(rule, by_id.get(series_id), value, now)
    return report


@transaction.atomic
def _apply(rule: AlertRule, series, value: float, now: datetime) -> int:
    """Advance one (rule, series) state under a row lock and act on the transition."""
    evaluator = registry.get(rule.kind)
    state_row, _ = RuleState.objects.select_for_update().get_or_create(rule=rule, series=series)
    current = State(
        state_row.level,
        state_row.pending_level,
        state_row.pending_since.timestamp() if state_row.pending_since else None,
    )
    wanted = evaluator.level(rule, value, current.level, series=series)
    step = advance(current, wanted, now.timestamp(), rule.for_duration.total_seconds())
    state_row.level, state_row.pending_level = step.state.level, step.state.pending_level
    state_row.pending_since = (
        datetime.fromtimestamp(step.state.pending_since, UTC) if step.state.pending_since else None
    )
    state_row.last_value, state_row.evaluated_at = value, now
    state_row.save()
    if step.transition is None and step.state.level != OK:
        return _refire_if_closed(rule, series, value, step.state.level, now)
    if step.transition in ("pending", "firing", "changed"):
        level = step.state.level if step.transition != "pending" else step.state.pending_level
        status = Alert.Status.PENDING if step.transition == "pending" else Alert.Status.FIRING
        alert_raise(signal=_signal(rule, series, level, value, status, now))
    elif step.transition in ("resolved", "pending_cleared"):
        fingerprint = fingerprint_for("rule", rule.id, alert_labels(rule, series))
        alert = Alert.objects.filter(team_id=rule.team_id, fingerprint=fingerprint, status__in=OPEN_STATUSES).first()
        if alert is not None:
            why = "condition cleared" if step.transition == "resolved" else "cleared before its `for` duration"
            shown = f" (value {value:.4g})" if value is not None else ""
            alert_resolve(alert=alert, actor_name=f"rule {rule.name}", reason=why + shown)
    return 1 if step.transition else 0


def _refire_if_closed(rule: AlertRule, series, value: float, level: str, now: datetime) -> int:
    """Still breaching but no open alert (resolved by hand): fire again, as Alertmanager and
    PagerDuty do. A snoozed alert stays open, so snoozing is how a person keeps it quiet."""
    fingerprint = fingerprint_for("rule", rule.id, alert_labels(rule, series))
    if Alert.objects.filter(team_id=rule.team_id, fingerprint=fingerprint, status__in=OPEN_STATUSES).exists():
        return 0
    alert_raise(signal=_signal(rule, series, level, value, Alert.Status.FIRING, now))
    return 1


def rules_for_metrics(*, team_id: int, metrics: list[str], kinds: list[str] | None = None) -> list[AlertRule]:
    rules = AlertRule.objects.filter(team_id=team_id, enabled=True, metric__in=metrics).exclude(kind="absence")
    if kinds is not None:
        rules = rules.filter(kind__in=kinds)
    return list(rules.select_related("service"))


@dataclass
class BacktestFiring:
    series: str
    start: datetime
    end: datetime | None
    duration_s: float | None
    level: str
    peak: float | None


@dataclass
class BacktestResult:
    rule: str
    days: int
    step_s: int
    series: int
    firings: list[BacktestFiring]

    @property
    def count(self) -> int:
        return len(self.firings)

    @property
    def total_firing_s(self) -> float:
        return sum(f.duration_s or 0 for f in self.firings)


def rule_backtest(*, rule: AlertRule, days: int, now: datetime | None = None, step_s: int = 60) -> BacktestResult:
    """What the rule would have fired over the last `days` days, from stored samples."""
    if not 1 <= days <= MAX_BACKTEST_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_BACKTEST_DAYS} (raw samples are kept that long)")
    now = now or timezone.now()
    evaluator = registry.get(rule.kind)
    end = int(now.timestamp()) // step_s * step_s
    times = np.arange(end - days * 86400, end + 1, step_s, dtype=np.float64)
    series = rule_series(rule)[:MAX_BACKTEST_SERIES]
    firings = []
    for s in series:
        values = evaluator.replay_values(rule, s, times)
        for f in replay(
            times,
            values,
            lambda v, cur, s=s: evaluator.level(rule, v, cur, series=s),
            rule.for_duration.total_seconds(),
            higher_is_worse=evaluator.higher_is_worse(rule),
        ):
            firings.append(
                BacktestFiring(
                    series=str(s),
                    start=datetime.fromtimestamp(f.start, UTC),
                    end=datetime.fromtimestamp(f.end, UTC) if f.end is not None else None,
                    duration_s=(f.end - f.start) if f.end is not None else None,
                    level=f.level,
                    # An absence rule over a series with no sample yet peaks at infinity: not JSON.
                    peak=f.peak if f.peak is None or math.isfinite(f.peak) else None,
                )
            )
    firings.sort(key=lambda f: f.start)
    return BacktestResult(rule=rule.name, days=days, step_s=step_s, series=len(series), firings=firings)
