"""What paging listens to: incident changes (escalation follows them) and edits of the routing
tables (the routing cache is dropped). Connected once by PagingConfig.ready()."""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save

from alerts.signals import incident_changed
from paging.models import EscalationLevel, EscalationPolicy, EscalationRoute
from paging.services.escalation import on_incident_changed, routing_cache_clear


def connect() -> None:
    incident_changed.connect(on_incident_changed, dispatch_uid="paging-follows-incidents")
    for model in (EscalationRoute, EscalationPolicy, EscalationLevel):
        post_save.connect(routing_cache_clear, sender=model, dispatch_uid=f"routing-cache-save-{model.__name__}")
        post_delete.connect(routing_cache_clear, sender=model, dispatch_uid=f"routing-cache-del-{model.__name__}")
    for field in ("users", "teams", "channels"):
        through = getattr(EscalationLevel, field).through
        m2m_changed.connect(routing_cache_clear, sender=through, dispatch_uid=f"routing-cache-{field}")
