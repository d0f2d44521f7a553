"""{% incident_related_panel incident %}: the incident page's "what else moved" panel. Recent
changes and similar incidents are rendered here (cheap queries); the ranked series are loaded
by static/js/insight.js from /api/v1/incidents/<uid>/related, so the page never waits for them."""

from __future__ import annotations

from django import template

from insight import selectors

register = template.Library()


@register.inclusion_tag("insight/_incident_related.html")
def incident_related_panel(incident) -> dict:
    _, at = selectors.incident_target(incident)
    return {
        "incident": incident,
        "changes": selectors.recent_changes(incident=incident, at=at),
        "similar": selectors.similar_incidents(incident=incident),
    }
