"""SLO writes: saving definitions, recording and evaluating SLOs, and burn-rate alerts through
the normal alert → incident → escalation pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert
from alerts.models.alerts import OPEN_STATUSES
from alerts.services.alerts import Signal, alert_raise, alert_resolve, fingerprint_for
from slo import calculations as calc
from slo import recording
from slo.events import slo_statuses_publish
from slo.models import SLO, SLOHour
from slo.selectors import settled_end, statuses
from slo.windows import window_length_s

HISTORY_CHECK_DAYS = 35


@transaction.atomic
def slo_save(*, slo: SLO) -> SLO:
    """Create or update an SLO (validated by the caller). A changed SLI definition drops the
    recorded history, which the next evaluation records again from the rollups."""
    old = SLO.objects.select_for_update().filter(pk=slo.pk).first() if slo.pk else None
    if old is not None and old.definition() != slo.definition():
        SLOHour.objects.filter(slo=slo).delete()
        slo.recorded_through = None
    slo.save()
    return slo


@dataclass
class EvaluationReport:
    slos: int = 0
    hours_recorded: int = 0
    transitions: int = 0

    def __str__(self) -> str:
        return f"{self.slos} SLO(s), {self.hours_recorded} hour(s) recorded, {self.transitions} transition(s)"


def slos_evaluate(*, now: datetime | None = None, slo_ids: list[int] | None = None) -> EvaluationReport:
    """Record every enabled SLO up to the settled end, compute statuses in one query, and raise,
    change or resolve burn-rate alerts."""
    end = settled_end(now)
    qs = SLO.objects.filter(enabled=True).select_related("service")
    if slo_ids is not None:
        qs = qs.filter(id__in=slo_ids)
    slos = list(qs)
    report = EvaluationReport(slos=len(slos))
    report.hours_recorded = recording.record(slos, end)
    by_id = statuses(slos, end=end)
    now = now or timezone.now()
    firing = set(Alert.objects.filter(source="slo", status__in=OPEN_STATUSES).values_list("fingerprint", flat=True))
    for slo in slos:
        report.transitions += slo_alert_update(slo=slo, status=by_id[slo.id], now=now, firing=firing)
    SLO.objects.filter(id__in=[s.id for s in slos]).update(evaluated_at=now)
    slo_statuses_publish(slos, by_id)
    return report


def slos_recheck(*, now: datetime | None = None) -> int:
    """Re-record hours that received late data (hourly)."""
    end = settled_end(now)
    slos = list(SLO.objects.filter(enabled=True, recorded_through__isnull=False))
    return recording.recheck(slos, end - td(days=HISTORY_CHECK_DAYS), end)


def _labels(slo: SLO, kind: str) -> dict[str, str]:
    labels = {"alertname": "SLOBurnRate", "slo": slo.name, "slo_alert": kind}
    if slo.service_id:
        labels["service"] = slo.service.slug
    return labels


def _percent(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.3f}%"


def slo_context(slo: SLO, status: calc.Status, tier: str) -> dict[str, str]:
    """Annotations of a burn-rate alert: the SLO, its budget and when it runs out."""
    t = calc.TIERS_BY_NAME[tier]
    window_s = window_length_s(slo.window, slo.timezone, status.as_of)
    return {
        "slo": str(slo.uid),
        "slo_url": reverse("slo-detail", args=[slo.uid]),
        "tier": tier,
        "condition": f"burn rate >= {calc.scaled_factor(t.factor, window_s):.4g} over {t.long} and {t.short}",
        f"burn_rate_{t.long}": f"{status.burn_rates.get(t.long) or 0:.4g}",
        f"burn_rate_{t.short}": f"{status.burn_rates.get(t.short) or 0:.4g}",
        "objective": f"{slo.objective:g}%",
        "attainment": _percent(status.attainment),
        "budget_remaining": _percent(status.budget_remaining),
        "budget_remaining_minutes": f"{status.remaining_s / 60:.1f}",
        "exhaustion": (
            "exhausted" if status.exhausted else status.exhaustion_at.isoformat() if status.exhaustion_at else "none"
        ),
    }


def _signal(slo: SLO, kind: str, tier: str, status: calc.Status, now: datetime) -> Signal:
    labels = _labels(slo, kind)
    context = slo_context(slo, status, tier)
    rate = status.burn_rates.get(calc.TIERS_BY_NAME[tier].long)
    return Signal(
        team_id=slo.team_id,
        source="slo",
        fingerprint=fingerprint_for("slo", slo.id, labels),
        labels=labels,
        severity=slo.tier_severity(tier),
        summary=f"SLO {slo.name}: error budget burning {rate or 0:.1f}x ({tier.replace('_', ' ')})",
        description=(
            f"{context['condition']}. Budget left {context['budget_remaining']} "
            f"({context['budget_remaining_minutes']} min); exhaustion: {context['exhaustion']}."
        ),
        runbook_url=slo.runbook_url,
        actor_name=f"SLO {slo.name}",
        service_id=slo.service_id,
        annotations=context,
        value=rate,
        at=now,
    )


def slo_alert_update(*, slo: SLO, status: calc.Status, now: datetime, firing: set[str] | None = None) -> int:
    """Act on the tiers that trip now: one alert per SLO and kind (page, ticket), the fastest
    tier wins and a page inhibits the ticket. Returns the number of transitions."""
    if slo.alerting:
        window_s = window_length_s(slo.window, slo.timezone, status.as_of)
        tripped = calc.tiers_tripped(
            rates=status.burn_rates,
            events=status.events,
            enabled=slo.enabled_tiers(),
            window_s=window_s,
            min_events=slo.min_events,
        )
        page, ticket = calc.alerting_tiers(tripped)
    else:
        page = ticket = None
    quiet = not (page or ticket or slo.page_tier or slo.ticket_tier)
    if quiet and firing is not None and not _has_open_alert(slo, firing):
        return 0  # the common case: nothing trips and no alert of this SLO is open
    transitions = 0
    for kind, tier, current in ((calc.PAGE, page, slo.page_tier), (calc.TICKET, ticket, slo.ticket_tier)):
        transitions += _apply(slo, kind, tier or "", current, status, now, inhibited=kind == calc.TICKET and page)
    SLO.objects.filter(pk=slo.pk).update(page_tier=page or "", ticket_tier=ticket or "", evaluated_at=now)
    slo.page_tier, slo.ticket_tier, slo.evaluated_at = page or "", ticket or "", now
    return transitions


def _has_open_alert(slo: SLO, firing: set[str]) -> bool:
    return any(fingerprint_for("slo", slo.id, _labels(slo, kind)) in firing for kind in (calc.PAGE, calc.TICKET))


def _apply(slo: SLO, kind: str, tier: str, current: str, status, now: datetime, *, inhibited) -> int:
    fingerprint = fingerprint_for("slo", slo.id, _labels(slo, kind))
    if tier:
        open_alert = Alert.objects.filter(team_id=slo.team_id, fingerprint=fingerprint, status__in=OPEN_STATUSES)
        if tier != current or not open_alert.exists():
            signal = _signal(slo, kind, tier, status, now)
            alert = alert_raise(signal=signal)
            if alert.annotations != signal.annotations:  # a tier change updates the alert in place
                Alert.objects.filter(pk=alert.pk).update(annotations=signal.annotations, description=signal.description)
            return 1
        # Still firing in the same tier: keep the SLO context current, no new occurrence.
        open_alert.update(annotations=slo_context(slo, status, tier))
        return 0
    alert = Alert.objects.filter(team_id=slo.team_id, fingerprint=fingerprint, status__in=OPEN_STATUSES).first()
    if alert is None:
        return 0
    reason = "inhibited: the SLO pages instead" if inhibited else "burn rate back under every tier"
    alert_resolve(alert=alert, actor_name=f"SLO {slo.name}", reason=reason)
    return 1
