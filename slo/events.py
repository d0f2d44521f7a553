"""Typed live event: where each SLO of a team stands, after every evaluation (every 30 s).
Volatile (not kept for catch-up): a newer one always follows, and pages re-read on connect."""

from __future__ import annotations

from collections import defaultdict
from typing import Literal, TypedDict

from django.db import transaction

from core.live import publish

MAX_PER_EVENT = 100


class SLOState(TypedDict):
    id: str
    name: str
    attainment: float | None
    budget_remaining: float
    burn_1h: float | None
    exhausted: bool
    exhaustion_at: str | None


class SLOStatus(TypedDict):
    type: Literal["slo.status"]
    slos: list[SLOState]


def slo_statuses_publish(slos: list, statuses: dict) -> None:
    by_team: dict[int, list[SLOState]] = defaultdict(list)
    for slo in slos:
        status = statuses.get(slo.id)
        if status is None or len(by_team[slo.team_id]) >= MAX_PER_EVENT:
            continue
        by_team[slo.team_id].append(
            {
                "id": str(slo.uid),
                "name": slo.name,
                "attainment": status.attainment,
                "budget_remaining": round(status.budget_remaining, 6),
                "burn_1h": status.burn_rates.get("1h"),
                "exhausted": status.exhausted,
                "exhaustion_at": status.exhaustion_at.isoformat() if status.exhaustion_at else None,
            }
        )
    for team_id, states in by_team.items():
        event: SLOStatus = {"type": "slo.status", "slos": states}
        transaction.on_commit(lambda t=team_id, e=event: publish(t, e))
