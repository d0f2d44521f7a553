"""The one parser of time and number parameters (query strings, JSON bodies, page forms).

Times are unix seconds (a number, or a string of one), RFC 3339 with a time zone, or a duration
before now such as `-24h` or `-7d`. Every refusal is a `ParamError`: a DRF ValidationError whose
body is `{field: [message]}`, so API views just let it through; pages catch it and answer 400.
Values outside 1970..2099, non-finite numbers (`inf`, `nan`, `1e400`) and absurd steps are
refused here instead of overflowing a datetime, numpy or PostgreSQL later (a 500).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from rest_framework.exceptions import ValidationError

MIN_S = 0  # 1970-01-01T00:00:00Z
MAX_S = 4_102_444_800  # 2100-01-01T00:00:00Z
MIN_YEAR, MAX_YEAR = 1970, 2099
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_STEP_S = 366 * 86400
RELATIVE = re.compile(r"^-(\d{1,9})([smhd])$")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
RANGE_TEXT = "between 1970-01-01 and 2099-12-31"


class ParamError(ValidationError):
    """A refused parameter: `field` names it, `message` says what is accepted."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__({field: [message]})
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _finite(value: object, field: str) -> float | None:
    """The value as a float when it is a number (or a string of one), else None."""
    if isinstance(value, bool):
        raise ParamError(field, "a number or a time, not true/false")
    if isinstance(value, int) and abs(value) >= 10**18:
        raise ParamError(field, "out of range")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        raise ParamError(field, "unix seconds or RFC 3339")
    if not math.isfinite(number):
        raise ParamError(field, "must be a finite number")
    return number


def _in_range(seconds: float, field: str) -> float:
    if not MIN_S <= seconds < MAX_S:
        raise ParamError(field, f"out of range: times must be {RANGE_TEXT}")
    return seconds


def unix_seconds(value: object, field: str, *, default: float | None = None, now: float | None = None) -> int:
    """Unix seconds (int) of a time parameter; `default` when it is absent or empty."""
    return int(_seconds(value, field, default=default, now=now))


def instant(
    value: object, field: str, *, default: datetime | None = None, assume_utc: bool = False, now: float | None = None
) -> datetime:
    """An aware datetime (UTC) of a time parameter. `assume_utc`: a time without zone is UTC (forms)."""
    if value is None or value == "":
        if default is None:
            raise ParamError(field, "required (unix seconds or RFC 3339)")
        return default
    seconds = _seconds(value, field, now=now, assume_utc=assume_utc)
    return datetime.fromtimestamp(seconds, UTC)


def _seconds(
    value: object, field: str, *, default: float | None = None, now: float | None = None, assume_utc: bool = False
) -> float:
    if value is None or value == "":
        if default is None:
            raise ParamError(field, "required (unix seconds or RFC 3339)")
        return _in_range(default, field)
    number = _finite(value, field)
    if number is not None:
        return _in_range(number, field)
    text = str(value).strip()
    relative = RELATIVE.match(text)
    if relative:
        base = datetime.now(UTC).timestamp() if now is None else now
        return _in_range(base - int(relative.group(1)) * UNITS[relative.group(2)], field)
    try:
        return rfc3339(text, field, assume_utc=assume_utc)
    except ParamError as exc:
        if exc.message.endswith("is not RFC 3339"):
            message = f"{text[:40]!r} is neither unix seconds, RFC 3339 nor a duration like -24h"
            raise ParamError(field, message) from None
        raise


def rfc3339(text: str, field: str, *, assume_utc: bool = False) -> float:
    """Unix seconds of an RFC 3339 time with a time zone (`assume_utc`: without one, it is UTC)."""
    try:
        parsed = datetime.fromisoformat(text[:64])
    except ValueError:
        raise ParamError(field, f"{text[:40]!r} is not RFC 3339") from None
    if parsed.tzinfo is None:
        if not assume_utc:
            raise ParamError(field, "RFC 3339 times need a time zone (Z or an offset)")
        parsed = parsed.replace(tzinfo=UTC)
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ParamError(field, f"out of range: times must be {RANGE_TEXT}")
    return _in_range(parsed.timestamp(), field)


def step_seconds(value: str | None, field: str = "step", *, max_s: int = MAX_STEP_S) -> int:
    """A positive duration such as 60, 60s, 5m, 1h or 1d, at most `max_s` seconds."""
    if not value:
        raise ParamError(field, "required, e.g. 60, 60s, 5m, 1h")
    number, unit = (value[:-1], value[-1]) if value[-1] in UNITS else (value, "s")
    if not number.isdigit() or len(number) > 12:
        raise ParamError(field, f"{value[:40]!r} is not a duration like 60, 60s, 5m or 1h")
    step = int(number) * UNITS[unit]
    if step <= 0:
        raise ParamError(field, "must be positive")
    if step > max_s:
        raise ParamError(field, f"at most {max_s} seconds")
    return step


def month(value: str | None, field: str = "month") -> tuple[int, int]:
    """(year, month) of a YYYY-MM parameter, year 1970..2099."""
    found = MONTH.match(value or "")
    if found is None:
        raise ParamError(field, "required, like 2026-03")
    year = int(found.group(1))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ParamError(field, f"out of range: the year must be {MIN_YEAR}..{MAX_YEAR}")
    return year, int(found.group(2))


def number(value: object, field: str, low: float, high: float) -> float:
    """A finite number in [low, high]."""
    found = _finite(value, field) if value is not None else None
    if found is None:
        raise ParamError(field, "must be a number")
    if not low <= found <= high:
        raise ParamError(field, f"must be between {low:g} and {high:g}")
    return found


def integer(value: object, field: str, *, default: int, low: int, high: int) -> int:
    """An integer in [low, high]; `default` when absent."""
    if value is None:
        return default
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not re.fullmatch(r"-?\d{1,18}", text) or not low <= int(text) <= high:
        raise ParamError(field, f"an integer from {low} to {high}")
    return int(text)
