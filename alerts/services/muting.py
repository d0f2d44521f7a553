"""Silences, maintenance windows and inhibition: which open alerts are muted, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alerts import events
from alerts.models import Alert, InhibitionRule, MaintenanceWindow, Silence
from alerts.models.alerts import OPEN_STATUSES
from alerts.services.incidents import incident_refresh
from alerts.services.timeline import alert_event
from metrics.matchers import matches, matches_one

INHIBITING_STATUSES = ("firing", "acknowledged")


@dataclass
class MuteRules:
    """A team's silences, maintenance windows, inhibition rules and inhibiting alerts, loaded once."""

    silences: list[Silence]
    windows: dict[int, list[MaintenanceWindow]]
    inhibitions: list[InhibitionRule]
    open_alerts: list[Alert] | None = None

    @classmethod
    def load(cls, team_id: int, now: datetime, open_alerts: list[Alert] | None = None) -> MuteRules:
        windows: dict[int, list[MaintenanceWindow]] = {}
        for window in MaintenanceWindow.objects.filter(service__team_id=team_id, starts_at__lte=now):
            windows.setdefault(window.service_id, []).append(window)
        return cls(
            silences=list(
                Silence.objects.filter(team_id=team_id, expired_at=None, starts_at__lte=now, ends_at__gt=now)
            ),
            windows=windows,
            inhibitions=list(InhibitionRule.objects.filter(team_id=team_id, enabled=True)),
            open_alerts=open_alerts,
        )

    def inhibitors(self, team_id: int) -> list[Alert]:
        if self.open_alerts is None:
            self.open_alerts = list(Alert.objects.filter(team_id=team_id, status__in=INHIBITING_STATUSES))
        return [a for a in self.open_alerts if a.status in INHIBITING_STATUSES]


def snoozed(alert: Alert, now: datetime) -> bool:
    return alert.snoozed_until_clear or (alert.snoozed_until is not None and alert.snoozed_until > now)


def mute_reason(alert: Alert, *, now: datetime, rules: MuteRules) -> tuple[str, Silence | None]:
    if snoozed(alert, now):
        return Alert.Muted.SNOOZED, None
    for silence in rules.silences:
        if matches(silence.matchers, alert.labels):
            return Alert.Muted.SILENCED, silence
    if any(window.is_active(now) for window in rules.windows.get(alert.service_id, [])):
        return Alert.Muted.MAINTENANCE, None
    targeting = [r for r in rules.inhibitions if matches(r.target_matchers, alert.labels)]
    if targeting:
        for source in rules.inhibitors(alert.team_id):
            if source.pk == alert.pk:
                continue
            for rule in targeting:
                if matches(rule.source_matchers, source.labels) and all(
                    source.labels.get(name, "") == alert.labels.get(name, "") for name in rule.equal
                ):
                    return Alert.Muted.SUPPRESSED, None
    return Alert.Muted.NO, None


def alert_refresh_muting(*, alert: Alert, now: datetime | None = None, rules: MuteRules | None = None) -> bool:
    """Recompute the alert's muted state; record a timeline event when it changes."""
    now = now or timezone.now()
    rules = rules or MuteRules.load(alert.team_id, now)
    muted, silence = mute_reason(alert, now=now, rules=rules)
    if muted == alert.muted and (silence.pk if silence else None) == alert.silence_id:
        return False
    before = alert.muted
    alert.muted, alert.silence = muted, silence
    alert.save(update_fields=["muted", "silence"])
    if muted:
        detail = f"by silence {silence.uid}: {silence.comment}" if silence else ""
        alert_event(alert, muted, actor_name="system", message=f"{muted} {detail}".strip())
    else:
        alert_event(alert, f"un{before}" if before != "maintenance" else "maintenance_ended", actor_name="system")
    events.alert_changed(alert)
    if alert.incident_id is not None and alert.status == Alert.Status.FIRING:
        incident_refresh(incident=alert.incident)  # paging pauses or resumes with the mute
    return True


def muting_refresh_team(*, team_id: int, now: datetime | None = None) -> int:
    """Re-check every open alert of a team (silences starting/ending, inhibitors resolving)."""
    now = now or timezone.now()
    changed = 0
    with transaction.atomic():
        open_alerts = list(
            Alert.objects.select_for_update().filter(team_id=team_id, status__in=OPEN_STATUSES).order_by("id")
        )
        rules = MuteRules.load(team_id, now, open_alerts=open_alerts)
        for alert in open_alerts:
            changed += alert_refresh_muting(alert=alert, now=now, rules=rules)
    return changed


def silences_expire(*, now: datetime | None = None) -> list[int]:
    """Record the expiry of silences whose end has passed; returns the affected team ids."""
    now = now or timezone.now()
    team_ids = list(
        Silence.objects.filter(expired_at=None, ends_at__lte=now).values_list("team_id", flat=True).distinct()
    )
    Silence.objects.filter(expired_at=None, ends_at__lte=now).update(expired_at=now)
    return team_ids


CONFIRM_FIELD = "confirm_team_wide"


def silence_team_wide(matchers: list[dict]) -> bool:
    """No matchers, or only matchers that an alert without the label also matches (`=~".*"`,
    `!="x"`, `=""`; Alertmanager's rule for silences): such a silence can mute every alert."""
    return all(matches_one(m, {}) for m in matchers)


def silence_problems(*, matchers: object, starts_at, ends_at, confirm_team_wide: bool, now=None) -> dict[str, str]:
    """What stops a silence being made, by field: an end more than HIVEOPS_SILENCE_MAX_DAYS after
    its start, or team-wide matchers without `confirm_team_wide`. Matchers are valid already."""
    now = now or timezone.now()
    problems = {}
    days = settings.HIVEOPS_SILENCE_MAX_DAYS
    if ends_at is not None and ends_at - max(starts_at or now, now) > td(days=days):
        problems["ends_at"] = f"a silence lasts at most {days} days (HIVEOPS_SILENCE_MAX_DAYS); set an earlier end"
    if isinstance(matchers, list) and silence_team_wide(matchers) and not confirm_team_wide:
        problems[CONFIRM_FIELD] = (
            "these matchers match every alert of the team; send confirm_team_wide: true to silence them all"
        )
    return problems


@transaction.atomic
def silence_create(
    *,
    team,
    matchers: list[dict],
    ends_at,
    comment: str,
    by=None,
    starts_at=None,
    expire_on_resolve: bool = False,
    for_alert: Alert | None = None,
    confirm_team_wide: bool = False,
) -> Silence:
    """Raises django's ValidationError naming the field (the API checks the same first, for a 400)."""
    problems = silence_problems(
        matchers=matchers, starts_at=starts_at, ends_at=ends_at, confirm_team_wide=confirm_team_wide
    )
    if problems:
        raise ValidationError(problems)
    silence = Silence(
        team=team,
        matchers=matchers,
        starts_at=starts_at or timezone.now(),
        ends_at=ends_at,
        comment=comment,
        created_by=by,
        expire_on_resolve=expire_on_resolve,
        for_alert=for_alert,
    )
    silence.full_clean()
    silence.save()
    muting_refresh_team(team_id=team.id)
    return silence


def silence_expire(*, silence: Silence, by=None) -> None:
    Silence.objects.filter(pk=silence.pk, expired_at=None).update(expired_at=timezone.now())
    muting_refresh_team(team_id=silence.team_id)
