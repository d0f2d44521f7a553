"""Alert-quality reads: the facts of every alert and page in a period from a handful of batched
queries (never one per alert), grouped per rule, service or team and handed to the maths."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td

from django.utils import timezone

from alerts.selectors import alerts_fired, incident_members
from core.teams.selectors import user_timezones
from paging.selectors import pages_sent, shifts_by_team
from recommendations.quality import calculations as calc

PERIODS = {"7d": 7, "30d": 30, "90d": 90}
GROUPINGS = ("rule", "service", "team")


@dataclass
class Row:
    by: str
    id: int | None
    name: str
    team_id: int
    quality: calc.Quality

    def as_dict(self) -> dict:
        return {"by": self.by, "id": self.id, "name": self.name, "team_id": self.team_id, **self.quality.as_dict()}


def quality(*, team_ids: list[int], days: int, by: str, now: datetime | None = None) -> list[Row]:
    """Quality per rule, service or team over the last `days`, noisiest first."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
    end = now or timezone.now()
    start = end - td(days=days)
    rows = alerts_fired(team_ids=team_ids, start=start, end=end)

    def key_of(row: dict) -> tuple:
        group_id = row["team_id"] if by == "team" else row[f"{by}_id"]
        return (group_id, row["team_id"])

    names: dict[tuple, str] = {}
    facts: dict[tuple, list[calc.AlertFacts]] = defaultdict(list)
    for row in rows:
        key = key_of(row)
        names[key] = row[f"{by}_name"] or "(none)"
        facts[key].append(
            calc.AlertFacts(
                fired_at=row["fired"],
                acknowledged_at=row["acknowledged_at"],
                resolved_at=row["resolved_at"],
                flapping=row["flapping"],
                duplicate=row["occurrences"] > 1 or row["reopened"],
                human=row["human"],
            )
        )
    pages = page_groups(team_ids=team_ids, start=start, end=end, by=by)
    shifts = shifts_by_team(team_ids=team_ids, start=start, end=end)
    out = [
        Row(
            by=by,
            id=key[0],
            name=names[key],
            team_id=key[1],
            quality=calc.quality_of(facts[key], pages.get(key, []), days=days, shifts=shifts.get(key[1], 0)),
        )
        for key in facts
    ]
    out.sort(key=lambda r: (-r.quality.noise, -r.quality.alerts, r.name))
    return out


def page_groups(*, team_ids: list[int], start: datetime, end: datetime, by: str) -> dict[tuple, list[calc.Page]]:
    """Pages sent in the period (paging's delivery log, without the messages cancelled or held
    for a digest), each counted once for every rule/service whose alerts are in the paged incident."""
    notes = pages_sent(team_ids=team_ids, start=start, end=end)
    zones = user_timezones(user_ids={n[2] for n in notes if n[2]})
    groups: dict[int, set] = defaultdict(set)
    if by != "team":
        for incident_id, group_id in incident_members(incident_ids={n[0] for n in notes}, by=by):
            groups[incident_id].add(group_id)
    out: dict[tuple, list[calc.Page]] = defaultdict(list)
    for incident_id, team_id, user_id, at in notes:
        page = calc.Page(at=at, timezone=zones.get(user_id, "UTC") if user_id else None)
        for group_id in groups[incident_id] if by != "team" else {team_id}:
            out[(group_id, team_id)].append(page)
    return dict(out)
