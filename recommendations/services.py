"""Accepting and dismissing recommendations: one row per team and key, audited."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.audit.services import actor_of, audit_record
from recommendations.models import Decision
from recommendations.selectors import Item


@transaction.atomic
def recommendation_decide(*, item: Item, decision: str, by=None) -> Decision:
    if decision not in Decision.Choice.values:
        raise ValueError(f"decision must be one of {', '.join(Decision.Choice.values)}")
    _, name = actor_of(by)
    row, _ = Decision.objects.update_or_create(
        team_id=item.team_id,
        key=item.key,
        defaults={
            "kind": item.kind,
            "title": item.title[:300],
            "decision": decision,
            "by": by if getattr(by, "pk", None) else None,
            "by_name": name[:200],
            "at": timezone.now(),
        },
    )
    audit_record(
        action=f"recommendation.{decision}",
        instance=row,
        after={"key": item.key, "kind": item.kind, "title": item.title, "evidence": item.evidence},
        by=by if getattr(by, "pk", None) else None,
    )
    return row
