from __future__ import annotations

from datetime import datetime
from typing import Protocol

import numpy as np


class Evaluator(Protocol):
    kind: str
    label: str

    def validate(self, rule) -> None:
        """Raise django.core.exceptions.ValidationError naming the bad field."""

    def observe(self, rule, series: list, now: datetime) -> dict[int | None, float | None]:
        """The rule's value per series id at `now` (None: no data)."""

    def level(self, rule, value: float, current: str, series=None) -> str:
        """ok, warning or critical for a value, given the current firing level (and the series,
        for kinds whose thresholds differ per series)."""

    def replay_values(self, rule, series, times: np.ndarray) -> list[float | None]:
        """Values at each evaluation time (unix seconds), from stored data, for backtests."""

    def higher_is_worse(self, rule) -> bool: ...

    def describe(self, rule) -> str: ...

    # Optional: `explain(rule, series, value, now) -> {"summary": str, "annotations": dict}` adds
    # context to the alert (the summary replaces the default template, never a custom one).


_evaluators: dict[str, Evaluator] = {}


def register(evaluator: Evaluator) -> None:
    _evaluators[evaluator.kind] = evaluator


def get(kind: str) -> Evaluator:
    return _evaluators[kind]


def kinds() -> list[str]:
    return sorted(_evaluators)


def choices() -> list[tuple[str, str]]:
    return [(kind, _evaluators[kind].label) for kind in kinds()]
