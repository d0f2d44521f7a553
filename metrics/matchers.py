"""Label matchers, the one implementation HiveOps has: Alertmanager's syntax and semantics
(`=`, `!=`, `=~`, `!~`), regular expressions run by RE2.

Why RE2: silences, rules, inhibitions, routes and PromQL selectors carry patterns written by
users, and they are evaluated on the hot path (every alert, every rule tick). A backtracking
engine (Python `re`, PostgreSQL) can take exponential time on a pattern like `(a+)+$`; RE2 runs
in time linear in the input, so no pattern can stall evaluation.

Semantics, as in Alertmanager and Prometheus:
- a regular expression is fully anchored (`=~"web"` does not match `web-1`);
- a missing label has the value "" (so `env=""` matches alerts without `env`);
- a list of matchers is a conjunction.

Matchers are stored as JSON dicts `{"name", "op", "value"}` (rules, silences, routes); the
`Matcher` class is the parsed, typed form used by PromQL and exports.

Text syntax (`parse`), as Alertmanager 0.25's `ParseMatchers`: an optional `{`…`}`, matchers
separated by commas (a trailing comma is allowed), each `name op value` with any whitespace
around the tokens. A value may be double-quoted (with `\\"`, `\\\\` and `\\n` escapes) or bare
(then it runs to the next comma, trimmed). A name may be double-quoted too, for UTF-8 names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import re2

OPERATORS = ("=", "!=", "=~", "!~")
MAX_PATTERN = 4096  # characters; a longer pattern is refused, not compiled
MAX_NAME = 256
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
_RE2_OPTIONS.max_mem = 8 << 20  # bytes of automaton per pattern
_BARE_NAME_STOP = set(" \t\r\n=!~,{}\"'`")


class MatcherError(ValueError):
    pass


@lru_cache(maxsize=4096)
def compile_regex(pattern: str):
    """The anchored RE2 program for a pattern (cached), or MatcherError naming the problem."""
    if len(pattern) > MAX_PATTERN:
        raise MatcherError(f"regular expression longer than {MAX_PATTERN} characters")
    try:
        return re2.compile(f"^(?:{pattern})$", _RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise MatcherError(f"bad regular expression {pattern!r}: {detail}") from None


def _search(pattern: str, value: str) -> bool:
    try:
        program = compile_regex(pattern)
    except MatcherError:
        return False  # a stored pattern RE2 refuses (written before RE2) matches nothing
    return program.search(value) is not None


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: str
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        return match_value(self.op, self.value, labels.get(self.name, ""))

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "op": self.op, "value": self.value}

    def __str__(self) -> str:
        return f"{_render_name(self.name)}{self.op}{quote(self.value)}"


def match_value(op: str, expected: str, actual: str) -> bool:
    if op == "=":
        return actual == expected
    if op == "!=":
        return actual != expected
    found = _search(expected, actual)
    return found if op == "=~" else not found


def make(name: object, op: object, value: object, *, where: str = "matcher") -> Matcher:
    """A checked Matcher: a label name, a known operator, a string value, a valid RE2 pattern."""
    if not isinstance(name, str) or not name or len(name) > MAX_NAME:
        raise MatcherError(f"{where}: name must be a label name")
    if op not in OPERATORS:
        raise MatcherError(f"{where}: op must be one of {', '.join(OPERATORS)}")
    if not isinstance(value, str):
        raise MatcherError(f"{where}: value must be a string")
    if op in ("=~", "!~"):
        try:
            compile_regex(value)
        except MatcherError as exc:
            raise MatcherError(f"{where}: {exc}") from None
    return Matcher(name, op, value)


def validate(matchers: object) -> list[dict[str, str]]:
    """Check a stored matcher list: [{"name": "service", "op": "=", "value": "checkout"}, ...]."""
    if not isinstance(matchers, list):
        raise MatcherError("matchers must be a list of {name, op, value} objects")
    for i, matcher in enumerate(matchers):
        if not isinstance(matcher, dict) or set(matcher) - {"name", "op", "value"}:
            raise MatcherError(f"matcher {i}: expected keys name, op, value")
        make(matcher.get("name"), matcher.get("op", "="), matcher.get("value"), where=f"matcher {i}")
    return matchers


def matches_one(matcher: dict[str, str], labels: dict[str, str]) -> bool:
    return match_value(matcher.get("op", "="), matcher["value"], labels.get(matcher["name"], ""))


def matches(matchers: list[dict[str, str]], labels: dict[str, str]) -> bool:
    return all(matches_one(m, labels) for m in matchers)


def matches_all(matchers: list[Matcher], labels: dict[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


def from_dicts(matchers: list[dict[str, str]]) -> list[Matcher]:
    return [Matcher(m["name"], m.get("op", "="), m["value"]) for m in validate(matchers)]


class _Reader:
    """A cursor over matcher text; every error names the position."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> MatcherError:
        return MatcherError(f"{message} at position {self.pos} of {self.text!r}")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.text)

    def quoted(self) -> str:
        """A double-quoted string with OpenMetrics escapes; a lone backslash stays literal."""
        out, self.pos = [], self.pos + 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(out)
            if char == "\\" and self.pos + 1 < len(self.text) and self.text[self.pos + 1] in '"\\n':
                nxt = self.text[self.pos + 1]
                out.append("\n" if nxt == "n" else nxt)
                self.pos += 2
                continue
            out.append(char)
            self.pos += 1
        raise self.fail("unterminated quoted string")

    def name(self) -> str:
        self.skip_space()
        if self.text.startswith('"', self.pos):
            return self.quoted()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _BARE_NAME_STOP:
            self.pos += 1
        if start == self.pos:
            raise self.fail('expected a label name (write name="value")')
        return self.text[start : self.pos]

    def op(self) -> str:
        self.skip_space()
        for op in ("=~", "!~", "!=", "="):
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return op
        raise self.fail("expected one of =, !=, =~, !~")

    def value(self) -> str:
        self.skip_space()
        if self.text.startswith('"', self.pos):
            value = self.quoted()
            self.skip_space()
            if self.pos < len(self.text) and self.text[self.pos] != ",":
                raise self.fail("unexpected text after a quoted value")
            return value
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] != ",":
            self.pos += 1
        value = self.text[start : self.pos].strip()
        if '"' in value:
            raise self.fail("a double quote inside an unquoted value (quote the whole value)")
        return value


def parse_matchers(text: str) -> list[Matcher]:
    """`{service="checkout", host=~"web-.*"}`, `service=checkout,env!=dev`, or one matcher."""
    if not isinstance(text, str):
        raise MatcherError("matchers must be text")
    body = text.strip()
    if body.startswith("{"):
        body = body[1:]
    if body.endswith("}"):
        body = body[:-1]
    reader, out = _Reader(body), []
    while not reader.at_end():
        name = reader.name()
        op = reader.op()
        value = reader.value()
        out.append(make(name, op, value, where=f"matcher {len(out)}"))
        if not reader.at_end():
            if reader.text[reader.pos] != ",":
                raise reader.fail("expected a comma between matchers")
            reader.pos += 1
    return out


def parse_one(text: str) -> Matcher:
    found = parse_matchers(text)
    if len(found) != 1:
        raise MatcherError(f'{text!r} is not one label matcher like service=checkout or pod=~"api-.*"')
    return found[0]


def parse(text: str) -> list[dict[str, str]]:
    """Matcher text (admin fields, CLI) into the stored dict form."""
    return [m.as_dict() for m in parse_matchers(text or "")]


def quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _render_name(name: str) -> str:
    plain = name and not (set(name) & _BARE_NAME_STOP)
    return name if plain else quote(name)


def render(matchers: list[dict[str, str]]) -> str:
    return ", ".join(str(Matcher(m["name"], m.get("op", "="), m["value"])) for m in matchers)
