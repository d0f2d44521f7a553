from alerts.models.alerts import Alert, AlertEvent, Severity
from alerts.models.incidents import GroupingRule, Incident, IncidentEvent
from alerts.models.integrations import Integration
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
    "GroupingRule",
    "Incident",
    "IncidentEvent",
    "InhibitionRule",
    "Integration",
    "MaintenanceWindow",
    "RuleState",
    "SLOHour",
    "Service",
    "Severity",
    "Silence",
]
