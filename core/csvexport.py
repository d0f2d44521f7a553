"""The one CSV writer of every export (incidents, alerts, series, audit log, executive summary, SLA
report). Text that a spreadsheet would run as a formula gets a leading apostrophe, as OWASP
advises against CSV injection: a cell starting with `=`, `+`, `-`, `@`, a tab, a carriage return
or a line feed (after any leading spaces). Numbers are left alone, also when they come as text
(`-12.5`, `+3`, `1e-6`): a spreadsheet reads those as numbers, never as formulas."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: object) -> object:
    """The cell as it may be written: formula-looking text prefixed with an apostrophe."""
    if not isinstance(value, str) or not value:
        return value
    if value.lstrip(" ").startswith(FORMULA_START) or value.startswith(FORMULA_START):
        if NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value


def safe_row(row: Iterable[object]) -> list[object]:
    return [safe_cell(cell) for cell in row]


class CsvWriter:
    """Turns rows into CSV lines (quoted as the csv module does), each cell made safe first."""

    def __init__(self, *, lineterminator: str = "\r\n") -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator=lineterminator)

    def line(self, row: Iterable[object]) -> str:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(safe_row(row))
        return self.buffer.getvalue()


def csv_lines(rows: Iterable[Iterable[object]], *, lineterminator: str = "\r\n") -> Iterator[str]:
    """Each row as one CSV line, for streamed responses."""
    writer = CsvWriter(lineterminator=lineterminator)
    for row in rows:
        yield writer.line(row)


def csv_text(rows: Iterable[Iterable[object]], *, lineterminator: str = "\r\n") -> str:
    """A whole CSV file (header row first) as one string."""
    return "".join(csv_lines(rows, lineterminator=lineterminator))
