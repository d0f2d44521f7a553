from paging.models.escalation import Escalation, EscalationLevel, EscalationLog, EscalationPolicy, EscalationRoute
from paging.models.notify import ContactMethod, Notification, NotificationChannel, NotificationRule
from paging.models.oncall import OnCallRotation, RotationMember, RotationOverride

__all__ = [
    "ContactMethod",
    "Escalation",
    "EscalationLevel",
    "EscalationLog",
    "EscalationPolicy",
    "EscalationRoute",
    "Notification",
    "NotificationChannel",
    "NotificationRule",
    "OnCallRotation",
    "RotationMember",
    "RotationOverride",
]
