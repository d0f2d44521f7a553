"""Reads of the service catalogue for other apps."""

from __future__ import annotations

from catalog.models import Service


def service_by_slug(*, team_id: int, slug: str) -> Service | None:
    """The team's service with this slug, or None."""
    return Service.objects.filter(team_id=team_id, slug=slug).first()
