"""Label matchers with Alertmanager's semantics (=, !=, =~, !~). Pure functions, no Django."""

from __future__ import annotations

import re
from functools import lru_cache

OPERATORS = ("=", "!=", "=~", "!~")


class MatcherError(ValueError):
    pass


@lru_cache(maxsize=2048)
def _regex(pattern: str) -> re.Pattern:
    try:
        return re.compile(f"(?:{pattern})\\Z")  # anchored, as in Alertmanager
    except re.error as exc:
        raise MatcherError(f"bad regular expression {pattern!r}: {exc}") from None


def validate(matchers: object) -> list[dict[str, str]]:
    """Check a matcher list: [{"name": "service", "op": "=", "value": "checkout"}, ...]."""
    if not isinstance(matchers, list):
        raise MatcherError("matchers must be a list of {name, op, value} objects")
    for i, matcher in enumerate(matchers):
        if not isinstance(matcher, dict) or set(matcher) - {"name", "op", "value"}:
            raise MatcherError(f"matcher {i}: expected keys name, op, value")
        name, op, value = matcher.get("name"), matcher.get("op", "="), matcher.get("value")
        if not isinstance(name, str) or not name:
            raise MatcherError(f"matcher {i}: name must be a label name")
        if op not in OPERATORS:
            raise MatcherError(f"matcher {i}: op must be one of {', '.join(OPERATORS)}")
        if not isinstance(value, str):
            raise MatcherError(f"matcher {i}: value must be a string")
        if op in ("=~", "!~"):
            _regex(value)
    return matchers


def matches_one(matcher: dict[str, str], labels: dict[str, str]) -> bool:
    actual = labels.get(matcher["name"], "")
    op, value = matcher.get("op", "="), matcher["value"]
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    found = _regex(value).match(actual) is not None
    return found if op == "=~" else not found


def matches(matchers: list[dict[str, str]], labels: dict[str, str]) -> bool:
    return all(matches_one(m, labels) for m in matchers)


def parse(text: str) -> list[dict[str, str]]:
    """Parse `service="checkout", host=~"a.*"` into matcher dicts (for admin and CLI input)."""
    out = []
    for part in filter(None, (p.strip() for p in re.split(r",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", text))):
        found = re.fullmatch(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?', part)
        if not found:
            raise MatcherError(f'cannot read matcher {part!r}; write name="value"')
        out.append({"name": found[1], "op": found[2], "value": found[3]})
    return validate(out)


def render(matchers: list[dict[str, str]]) -> str:
    return ", ".join(f'{m["name"]}{m.get("op", "=")}"{m["value"]}"' for m in matchers)
