"""State machines as data. Each machine module lists its states and allowed transitions in one
table, and offers one function that applies a transition: it checks the table, writes the row
and the timeline event in the caller's transaction, and nothing else changes the state field."""

from __future__ import annotations

from dataclasses import dataclass


class TransitionError(ValueError):
    """A transition the machine's table does not allow; the message says which and why."""


@dataclass(frozen=True)
class Machine:
    name: str
    states: tuple[str, ...]
    transitions: dict[tuple[str, str], str]  # (state, event) -> next state

    def next_state(self, state: str, event: str) -> str:
        target = self.transitions.get((state, event))
        if target is None:
            allowed = sorted(e for (s, e) in self.transitions if s == state)
            raise TransitionError(
                f"{self.name} is {state}; cannot {event}" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
            )
        return target

    def allows(self, state: str, event: str) -> bool:
        return (state, event) in self.transitions

    def sources(self, event: str) -> list[str]:
        """The states an event may leave from (for conditional updates that claim a row)."""
        return sorted(s for (s, e) in self.transitions if e == event)

    def table(self) -> list[tuple[str, str, str]]:
        """(state, event, next) rows, for the docs and the tests."""
        return sorted((s, e, t) for (s, e), t in self.transitions.items())
