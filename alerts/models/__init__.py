from alerts.models.alerts import Alert, AlertEvent, Severity
from alerts.models.escalation import Escalation, EscalationLevel, EscalationLog, EscalationPolicy, EscalationRoute
from alerts.models.incidents import GroupingRule, Incident, IncidentEvent
from alerts.models.integrations import Integration
from alerts.models.notify import ContactMethod, Notification, NotificationChannel, NotificationRule
from alerts.models.oncall import OnCallRotation, RotationMember, RotationOverride
from alerts.models.rules import AlertRule, RuleState
from alerts.models.service import Service
from alerts.models.silences import InhibitionRule, MaintenanceWindow, Silence
from alerts.models.slo import SLA, SLO, SLOHour

__all__ = [
    "SLA",
    "SLO",
    "Alert",
    "AlertEvent",
    "AlertRule",
    "ContactMethod",
    "Escalation",
    "EscalationLevel",
    "EscalationLog",
    "EscalationPolicy",
    "EscalationRoute",
    "GroupingRule",
    "Incident",
    "IncidentEvent",
    "InhibitionRule",
    "Integration",
    "MaintenanceWindow",
    "Notification",
    "NotificationChannel",
    "NotificationRule",
    "OnCallRotation",
    "RotationMember",
    "RotationOverride",
    "RuleState",
    "SLOHour",
    "Service",
    "Severity",
    "Silence",
]
