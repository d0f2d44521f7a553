"""The house rules of docs/architecture.md, read off the source (tests/core/house.py)."""

from __future__ import annotations

from tests.core.house import survey

FOUND = survey()


def test_no_app_imports_an_app_above_it():
    assert FOUND["upward imports"] == []


def test_function_local_imports_are_few_and_say_why():
    local = FOUND["function-local imports"]
    assert len(local) <= 10, local
    assert [item["at"] for item in local if not item["why"]] == []


def test_modules_and_functions_stay_short():
    assert FOUND["modules over 600 lines"] == []
    assert FOUND["functions over 80 lines"] == []
