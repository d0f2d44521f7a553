"""SLO windows and calendar months in a time zone (pure: standard library only)."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROLLING_DAYS = {"7d": 7, "28d": 28, "30d": 30}
MONTH = "month"


def valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def minute_floor(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def hour_floor(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def month_bounds(year: int, month: int, tz: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of a local calendar month, in UTC.
    DST makes a month an hour shorter or longer; zones with half-hour offsets are fine."""
    zone = ZoneInfo(tz)
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def month_of(at: datetime, tz: str) -> tuple[int, int]:
    local = at.astimezone(ZoneInfo(tz))
    return local.year, local.month


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year, month - 1) if month > 1 else (year - 1, 12)


def window_bounds(window: str, tz: str, as_of: datetime) -> tuple[datetime, datetime]:
    """(start, end of the whole window) for a window ending at as_of. Rolling windows end at
    as_of; a calendar month ends when the month does."""
    if window == MONTH:
        return month_bounds(*month_of(as_of, tz), tz)
    return as_of - td(days=ROLLING_DAYS[window]), as_of


def window_length_s(window: str, tz: str, as_of: datetime) -> float:
    start, end = window_bounds(window, tz, as_of)
    return (end - start).total_seconds()
