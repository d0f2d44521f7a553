"""What gets audited: every create/update/delete of a configuration model (admin, API, shell),
every alert and incident timeline event (acknowledge, resolve, silence, notes …) and every
escalation step. Configuration models are listed here by label; apps that are not installed
are skipped."""

from __future__ import annotations

from django.apps import apps
from django.db.models.signals import post_delete, post_save, pre_save

from core.audit.services import audit_record, snapshot

CONFIG_MODELS = [
    "teams.Team",
    "teams.Membership",
    "teams.ApiToken",
    "catalog.Service",
    "alerts.AlertRule",
    "alerts.Silence",
    "alerts.MaintenanceWindow",
    "alerts.InhibitionRule",
    "alerts.GroupingRule",
    "alerts.Integration",
    "paging.EscalationPolicy",
    "paging.EscalationLevel",
    "paging.EscalationRoute",
    "paging.OnCallRotation",
    "paging.RotationMember",
    "paging.RotationOverride",
    "paging.NotificationChannel",
    "paging.ContactMethod",
    "paging.NotificationRule",
    "slo.SLO",
    "slo.SLA",
    "forecasting.TeamDetection",
    "forecasting.Feedback",
    "capacity.Resource",
    "capacity.Scenario",
]
IGNORED_FIELDS = {"last_used_at", "updated_at", "last_event_at"}  # bookkeeping, not configuration
_before = "_audit_before"


def _pre_save(sender, instance, raw=False, **kwargs) -> None:
    if raw or instance.pk is None:
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    setattr(instance, _before, snapshot(old) if old is not None else None)


def _post_save(sender, instance, created, raw=False, **kwargs) -> None:
    if raw:
        return
    after = snapshot(instance)
    before = getattr(instance, _before, None)
    if created or before is None:
        audit_record(action="create", instance=instance, after=after)
        return
    changed = {k for k in after if after.get(k) != before.get(k) and k not in IGNORED_FIELDS}
    if changed:
        audit_record(
            action="update",
            instance=instance,
            before={k: before.get(k) for k in sorted(changed)},
            after={k: after[k] for k in sorted(changed)},
        )


def _post_delete(sender, instance, **kwargs) -> None:
    audit_record(action="delete", instance=instance, before=snapshot(instance))


def _timeline(kind: str):
    def receiver(sender, instance, created, raw=False, **kwargs) -> None:
        if not created or raw:
            return
        parent = getattr(instance, kind)
        audit_record(
            action=f"{kind}.{instance.kind}",
            instance=parent,
            team_id=parent.team_id,
            by=instance.actor,
            actor_name=instance.actor_name,
            after={"message": instance.message, **(instance.data or {})},
        )

    receiver.__name__ = f"audit_{kind}_event"
    return receiver


def _escalation_step(sender, instance, created, raw=False, **kwargs) -> None:
    if not created or raw:
        return
    escalation = instance.escalation
    audit_record(
        action=f"escalation.{instance.action}",
        instance=escalation,
        team_id=escalation.incident.team_id,
        actor_name="escalation",
        after={"level": instance.level, "cycle": instance.cycle, "detail": instance.detail},
    )


_receivers = {"alert": _timeline("alert"), "incident": _timeline("incident")}


def connect() -> None:
    for label in CONFIG_MODELS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        uid = f"audit:{label}"
        pre_save.connect(_pre_save, sender=model, dispatch_uid=uid)
        post_save.connect(_post_save, sender=model, dispatch_uid=uid)
        post_delete.connect(_post_delete, sender=model, dispatch_uid=uid)
    post_save.connect(_receivers["alert"], sender=apps.get_model("alerts.AlertEvent"), dispatch_uid="audit:alertevent")
    post_save.connect(
        _receivers["incident"], sender=apps.get_model("alerts.IncidentEvent"), dispatch_uid="audit:incidentevent"
    )
    post_save.connect(_escalation_step, sender=apps.get_model("paging.EscalationLog"), dispatch_uid="audit:esclog")
