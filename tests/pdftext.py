"""The text layer of a rendered PDF (pdfminer.six), for tests that check what a reader sees: the
words, where each line sits on the page, and whether any runs past the page's printable area."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from itertools import pairwise

from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar, LTTextLine

MARGIN_PT = 18 * 72 / 25.4  # core.pdf.MARGIN


@dataclass
class TextLine:
    page: int
    text: str
    x0: float
    x1: float
    y0: float
    page_width: float


def lines(pdf: bytes) -> list[TextLine]:
    out = []
    for number, page in enumerate(extract_pages(io.BytesIO(pdf)), start=1):
        stack = list(page)
        while stack:
            item = stack.pop()
            if isinstance(item, LTTextLine):
                text = item.get_text().strip()
                if text:
                    out.append(TextLine(number, text, item.x0, item.x1, item.y0, page.width))
            elif hasattr(item, "__iter__"):
                stack.extend(item)
    # Column by column, top to bottom: a table cell's wrapped lines come out next to each other.
    return sorted(out, key=lambda line: (line.page, round(line.x0), -line.y0))


def text(pdf: bytes) -> str:
    return "\n".join(line.text for line in lines(pdf))


def flat(value: str) -> str:
    """Without whitespace: a wrapped cell reads the same as the unwrapped string."""
    return re.sub(r"\s+", "", value)


def outside_printable_area(pdf: bytes, *, slack: float = 2.0) -> list[TextLine]:
    """Lines that start before the left margin or end past the right one (text cut off)."""
    low, out = MARGIN_PT - slack, []
    for line in lines(pdf):
        if line.x0 < low or line.x1 > line.page_width - low:
            out.append(line)
    return out


def overlapping_characters(pdf: bytes, *, tolerance: float = 0.5) -> list[tuple[int, str, str]]:
    """Characters drawn over one another on a baseline: what text running past its table cell into
    the next one looks like. Returns (page, this character, the one it overlaps)."""
    found = []
    for number, page in enumerate(extract_pages(io.BytesIO(pdf)), start=1):
        rows: dict[int, list[LTChar]] = {}
        stack = list(page)
        while stack:
            item = stack.pop()
            if isinstance(item, LTChar):
                if item.get_text().strip():
                    rows.setdefault(round(item.y0), []).append(item)
            elif hasattr(item, "__iter__"):
                stack.extend(item)
        for chars in rows.values():
            chars.sort(key=lambda c: c.x0)
            for a, b in pairwise(chars):
                if a.x1 - b.x0 > tolerance and abs(a.y0 - b.y0) < 1:
                    found.append((number, a.get_text(), b.get_text()))
    return found
