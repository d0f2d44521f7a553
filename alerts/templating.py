"""`{{ labels.host }}`-style substitution for alert summaries. Pure; unknown names render empty."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"{{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*}}")


def _lookup(context: dict, dotted: str) -> object:
    value: object = context
    for part in dotted.split("."):
        value = value.get(part, "") if isinstance(value, dict) else getattr(value, part, "")
    return value


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def render(template: str, context: dict) -> str:
    return PLACEHOLDER.sub(lambda m: _format(_lookup(context, m.group(1))), template)
