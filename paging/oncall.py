"""Who is on call: pure time maths over a rotation's members and overrides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Shift:
    user_id: int | None
    start: datetime
    end: datetime
    override: bool = False


def shift_index(*, first_handoff: datetime, length: str, custom_hours: int | None, at: datetime) -> int | None:
    """Which shift (0, 1, …) covers `at`; None before the rotation starts. Daily and weekly
    shifts follow local wall time, so handoffs stay at the same local hour across DST changes."""
    if at < first_handoff:
        return None
    if length in ("daily", "weekly"):
        zone = first_handoff.tzinfo
        local = at.astimezone(zone)
        days = (local.date() - first_handoff.date()).days
        if local.timetz().replace(tzinfo=None) < first_handoff.timetz().replace(tzinfo=None):
            days -= 1
        return days // (1 if length == "daily" else 7)
    hours = custom_hours or 24
    return int((at - first_handoff) // td(hours=hours))


def shift_bounds(
    first_handoff: datetime, length: str, custom_hours: int | None, index: int
) -> tuple[datetime, datetime]:
    zone: ZoneInfo = first_handoff.tzinfo  # type: ignore[assignment]
    if length in ("daily", "weekly"):
        days = 1 if length == "daily" else 7
        local_start = datetime.combine(first_handoff.date() + td(days=days * index), first_handoff.timetz())
        local_end = datetime.combine(first_handoff.date() + td(days=days * (index + 1)), first_handoff.timetz())
        return local_start.replace(tzinfo=zone), local_end.replace(tzinfo=zone)
    hours = td(hours=custom_hours or 24)
    return first_handoff + hours * index, first_handoff + hours * (index + 1)
