"""Upward notices from the alerts app. Sent inside the writer's transaction, so a receiver's
writes (the paging app starting or stopping an escalation) commit or roll back with it."""

from __future__ import annotations

from django.dispatch import Signal

# An incident changed in a way paging cares about. kwargs: incident (locked row), event (the
# incident machine's event, or "alerts_changed" when its alerts' firing or muting changed),
# by (the user, or None), channel (how a person acted: "console", "api", "email link", ...).
incident_changed = Signal()
