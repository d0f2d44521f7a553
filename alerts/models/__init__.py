from alerts.models.alerts import Alert, AlertEvent, Severity
from alerts.models.incidents import GroupingRule, Incident, IncidentEvent
from alerts.models.integrations import Integration
from alerts.models.rules import AlertRule, RuleState
from alerts.models.silences import InhibitionRule, MaintenanceWindow, Silence

__all__ = [
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
    "Severity",
    "Silence",
]
