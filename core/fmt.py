"""Numbers and words people read, the same on every page: one set of template filters (loaded as a
template builtin, so no `{% load %}`), mirrored for live pages by static/js/fmt.js (Intl).

- `ratio_percent` 0.986202 → "98.62%"; `percent` 99.5 → "99.5%" (the value is already a percent)
- `duration` 5040 (seconds, or a timedelta) → "1 h 24 min"; `minutes` 28.98 → "29 min"
- `money` 63504000, "EUR" → "€63,504,000.00"
- `when` an aware datetime → "2 Dec 2026, 19:30" in the user's time zone (activated per request by
  core.usertime); `ago` → "3 h ago" / "in 2 d"
- `words` an enum value → "forecast breach" (FORECASTBREACH, scale_up, SLOATRISK …)
- `number` 1.0 → "1", 151680 → "151,680"
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()
DASH = "–"
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CHF": "CHF "}
# Enum values written as one word upstream; everything else is split on "_" / "-".
GLUED = {
    "forecastbreach": "forecast breach",
    "sloatrisk": "SLO at risk",
    "sloburn": "SLO burn",
    "scaleup": "scale up",
    "scaledown": "scale down",
    "scaleout": "scale out",
    "levelshift": "level shift",
    "rotationgap": "rotation gap",
    "noisyrule": "noisy rule",
    "slo": "SLO",
    "sla": "SLA",
}


def _number(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        x = float(value)
    except (TypeError, ValueError, InvalidOperation):
        return None
    return None if math.isnan(x) or math.isinf(x) else x


def _trim(x: float, digits: int) -> str:
    text = f"{x:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def number(value, digits: int = 2) -> str:
    x = _number(value)
    return DASH if x is None else _trim(x, int(digits)).replace("-", "−")


@register.filter
def percent(value, digits: int = 2) -> str:
    """A value that is already in percent (99.5 → "99.5%")."""
    x = _number(value)
    return DASH if x is None else f"{_trim(x, int(digits))}%".replace("-", "−")


@register.filter
def ratio_percent(value, digits: int = 2) -> str:
    """A fraction shown as a percent (0.986202 → "98.62%")."""
    x = _number(value)
    return DASH if x is None else percent(x * 100, digits)


def duration_text(seconds: float) -> str:
    sign, s = ("−", -seconds) if seconds < 0 else ("", seconds)
    s = round(s)
    if s < 60:
        return f"{sign}{s} s"
    s = round(s / 60) * 60  # past a minute, seconds are noise: to the nearest minute
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            parts.append(f"{s // size} {unit}")
            s %= size
    if parts and parts[0].endswith(" d"):
        parts = parts[:2]  # "2 d 3 h": minutes do not matter any more
    return sign + " ".join(parts[:2])


@register.filter
def duration(value) -> str:
    """Seconds (or a timedelta) → "1 h 23 min"."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    x = _number(value)
    return DASH if x is None else duration_text(x)


@register.filter
def minutes(value) -> str:
    x = _number(value)
    return DASH if x is None else duration_text(x * 60)


@register.filter
def money(value, currency: str = "USD") -> str:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return DASH
    if value is None or amount.is_nan():
        return DASH
    code = (currency or "USD").upper()
    symbol = SYMBOLS.get(code, f"{code} ")
    sign = "−" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"


@register.filter
def when(value) -> str:
    """An aware datetime (or an RFC 3339 string of one) in the active (the user's) time zone:
    "2 Dec 2026, 19:30"."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return DASH if value in (None, "") else str(value)
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local.day} {local:%b %Y, %H:%M}"


@register.filter
def ago(value, now: datetime | None = None) -> str:
    """Relative to now: "3 h ago", "in 2 d", "just now"."""
    if not isinstance(value, datetime):
        return DASH
    delta = (value - (now or timezone.now())).total_seconds()
    if abs(delta) < 45:
        return "just now"
    text = duration_text(abs(delta)).split(" ")
    short = " ".join(text[:2])
    return f"in {short}" if delta > 0 else f"{short} ago"


@register.filter
def words(value) -> str:
    """An enum value as words: FORECASTBREACH → "forecast breach", scale_up → "scale up"."""
    if value in (None, ""):
        return DASH
    raw = str(value)
    key = raw.replace("_", "").replace("-", "").replace(" ", "").lower()
    if key in GLUED:
        return GLUED[key]
    return raw.replace("_", " ").replace("-", " ").lower()


@register.filter
def breakable(value) -> str:
    """A series name that may wrap before its labels and after each comma (never mid-word):
    http_latency_p95{service="checkout"} → http_latency_p95<wbr>{service="checkout"}."""
    text = conditional_escape("" if value is None else str(value))
    return mark_safe(text.replace("{", "<wbr>{").replace(",", ",<wbr>"))  # noqa: S308 -- escaped above
