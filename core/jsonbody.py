"""JSON request bodies that cannot hurt the server: a depth limit and no lone surrogates.

Python's json module recurses once per nesting level, so a body of a few thousand `[` raised
RecursionError (a 500) in every JSON endpoint. A lone surrogate ("\\ud800") parses into a str that
PostgreSQL and orjson refuse to encode, also a 500. Both are now a 400 that names the item.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 64


class JSONBodyError(ValueError):
    """A JSON body refused on purpose: `item` is where (e.g. body.labels.host), `message` why."""

    def __init__(self, item: str, message: str) -> None:
        super().__init__(f"{item}: {message}")
        self.item = item
        self.message = message


def has_surrogate(text: str) -> bool:
    """True when the string holds a lone surrogate code point (valid JSON, not valid UTF-8)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _path(parts: tuple) -> str:
    """`series[0].labels.host` style; `body` for the document itself."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part.encode("utf-8", "replace").decode()[:60]
            out += f".{name}" if out else name
    return out or "body"


def _children(value: object) -> Iterator[tuple[object, object]]:
    if isinstance(value, dict):
        return iter(value.items())
    return enumerate(value)  # a list


def check_tree(doc: object, max_depth: int = MAX_DEPTH) -> None:
    """Walk a parsed document without recursion; raise JSONBodyError at the first bad item."""
    stack: list[tuple[object, tuple]] = [(doc, ())]
    while stack:
        value, parts = stack.pop()
        if isinstance(value, str):
            if has_surrogate(value):
                raise JSONBodyError(_path(parts), "string holds a lone surrogate (not valid Unicode)")
            continue
        if not isinstance(value, dict | list):
            continue
        if len(parts) >= max_depth:
            raise JSONBodyError(_path(parts[:8]) + "...", f"JSON nested deeper than {max_depth} levels")
        for key, child in _children(value):
            if isinstance(key, str) and has_surrogate(key):
                raise JSONBodyError(_path(parts), "a key holds a lone surrogate (not valid Unicode)")
            stack.append((child, (*parts, key)))


def loads(text: str | bytes, max_depth: int = MAX_DEPTH, **kwargs) -> object:
    """json.loads, with the depth limit and surrogate check; RecursionError becomes JSONBodyError."""
    try:
        doc = json.loads(text, **kwargs)
    except RecursionError:
        raise JSONBodyError("body", f"JSON nested deeper than {max_depth} levels") from None
    check_tree(doc, max_depth)
    return doc


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the checks above; a refused body is a ParseError (400) naming the item."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            doc = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"body: JSON nested deeper than {MAX_DEPTH} levels") from None
        try:
            check_tree(doc)
        except JSONBodyError as exc:
            raise ParseError(str(exc)) from None
        return doc
