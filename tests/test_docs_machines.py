"""The state-machine tables in the docs are the machines' own tables (no drift)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alerts.machines import alert, incident
from paging.machines import delivery, escalation

DOCS = Path(__file__).resolve().parent.parent / "docs"
ROW = re.compile(r"^\s*\| ([a-z_()]+) \| ([a-z_]+) \| ([a-z_]+) \|", re.M)


def documented(doc: str, heading: str) -> set[tuple[str, str, str]]:
    """(from, event, to) rows of the first table after `heading` in docs/`doc`."""
    text = (DOCS / doc).read_text()
    start = text.index(heading)
    table = text[start : start + 4000].split("\n\n")
    rows = next(block for block in table if "| from | event | to |" in block)
    return {(a, e, b) for a, e, b in ROW.findall(rows) if a not in ("from", "(new)") and e != "---"}


@pytest.mark.parametrize(
    ("machine", "doc", "heading"),
    [
        (alert.MACHINE, "alerting.md", "- **States:**"),
        (incident.MACHINE, "alerting.md", "- **Lifecycle**"),
        (escalation.MACHINE, "escalation.md", "### The escalation state machine"),
        (delivery.MACHINE, "escalation.md", "### The delivery state machine"),
    ],
)
def test_the_docs_show_the_machine_as_it_is(machine, doc, heading):
    assert documented(doc, heading) == set(machine.table())
