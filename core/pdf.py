"""The one PDF builder of every report HiveOps sends (executive report, SLA report): A4 pages
with the product's name, the report's title and period in a header and the generation time and
page number in a footer on every page; tables whose cells wrap instead of running past the cell
edge; charts whose time axis reads as dates. Callers add blocks in order and call `build()`.

reportlab's Paragraph text is markup: every text that reaches it here is escaped, so a name like
`A<B` or `<img src=...>` stays text (an unescaped <img> would make reportlab fetch the URL)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import timedelta as td
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

PRODUCT = "HiveOps"
INK = colors.HexColor("#263241")
MUTED = colors.HexColor("#6b7785")
PALETTE = (colors.HexColor("#f5a623"), colors.HexColor("#3e63dd"), colors.HexColor("#8a99a8"), colors.red)
MARGIN = 18 * mm
HEADER_GAP = 10 * mm  # room above the frame for the header line
CHART_HEIGHT = 150
DAY_S = 86400


def plain(text: object) -> str:
    """Text for a Paragraph: escaped (see the module docstring)."""
    return escape("" if text is None else str(text))


class _NumberedCanvas(Canvas):
    """Holds every page until the end so the footer can say "page 2 of 3"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self):  # reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont("Helvetica", 7.5)
            self.setFillColor(MUTED)
            self.drawRightString(A4[0] - MARGIN, MARGIN / 2, f"Page {number} of {total}")
            super().showPage()
        super().save()


def _time_label(at: datetime, span_s: float) -> str:
    """An axis label: day and month ("3 Mar"), with the hour for spans under two days."""
    if span_s < 2 * DAY_S:
        return f"{at:%d %b %H:%M}".lstrip("0")
    return f"{at.day} {at:%b}"


def time_steps(start: datetime, end: datetime, *, most: int = 8) -> list[datetime]:
    """Axis ticks on whole days (or hours for short spans), at most `most` of them."""
    span_s = max((end - start).total_seconds(), 1.0)
    unit = td(hours=1) if span_s < 2 * DAY_S else td(days=1)
    per = max(1, int(-(-span_s // (unit.total_seconds() * most))))  # ceil
    first = start.replace(minute=0, second=0, microsecond=0)
    if unit == td(days=1):
        first = first.replace(hour=0)
    if first < start:
        first += unit
    out, at = [], first
    while at <= end:
        out.append(at)
        at += unit * per
    return out or [start]


@dataclass
class Series:
    """One line of a time chart: (time, value) points; None values are left out."""

    label: str
    points: list[tuple[datetime, float | None]]
    color: object | None = None


class ReportPDF:
    """One report document. `title` names the report, `period` the window it covers (both in the
    header of every page); `tz_label` says which clock the dates are in."""

    def __init__(self, *, title: str, period: str, tz_label: str = "", generated_at: datetime | None = None):
        self.title, self.period, self.tz_label = title, period, tz_label
        self.generated_at = generated_at or datetime.now(UTC)
        sheet = getSampleStyleSheet()
        self.styles = {
            "title": ParagraphStyle("title", parent=sheet["Title"], fontSize=16, spaceAfter=4),
            # keepWithNext: a heading never ends a page without what it heads
            "h2": ParagraphStyle("h2", sheet["Heading2"], fontSize=12, spaceBefore=8, spaceAfter=4, keepWithNext=1),
            "h3": ParagraphStyle("h3", sheet["Heading3"], fontSize=10, spaceBefore=6, spaceAfter=3, keepWithNext=1),
            "body": ParagraphStyle("body", parent=sheet["Normal"], fontSize=9, leading=11.5),
            "note": ParagraphStyle("note", parent=sheet["Italic"], fontSize=8.5, leading=11, textColor=MUTED),
            "cell": ParagraphStyle("cell", parent=sheet["Normal"], fontSize=8, leading=9.6),
            "head": ParagraphStyle("head", parent=sheet["Normal"], fontSize=8, leading=9.6, textColor=colors.white),
        }
        self.story: list = [Paragraph(plain(title), self.styles["title"])]
        self.story.append(Paragraph(plain(f"{period} ({tz_label})" if tz_label else period), self.styles["note"]))
        self.story.append(Spacer(1, 6))

    @property
    def width(self) -> float:
        return A4[0] - 2 * MARGIN

    # -- text ------------------------------------------------------------------------------------

    def heading(self, text: str, *, level: int = 2) -> None:
        self.story.append(Paragraph(plain(text), self.styles["h2" if level <= 2 else "h3"]))

    def text(self, text: str, *, markup: bool = False, note: bool = False) -> None:
        """A paragraph; `markup=True` only for markup the caller built from escaped parts."""
        self.story.append(Paragraph(text if markup else plain(text), self.styles["note" if note else "body"]))

    # -- tables ----------------------------------------------------------------------------------

    def table(self, header: list[str], rows: list[list[object]], *, widths: list[float] | None = None) -> None:
        """A table whose cells wrap: each cell is a Paragraph in a column of a fixed share of the
        page width (`widths` are relative weights, equal by default)."""
        weights = widths or [1.0] * len(header)
        unit = self.width / sum(weights)
        data = [[Paragraph(plain(h), self.styles["head"]) for h in header]]
        data += [[Paragraph(plain(c), self.styles["cell"]) for c in row] for row in rows]
        table = Table(data, colWidths=[w * unit for w in weights], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), INK),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        self.story += [table, Spacer(1, 6)]

    # -- charts ----------------------------------------------------------------------------------

    def _caption(self, drawing: Drawing, text: str, height: float) -> None:
        drawing.add(String(0, height - 10, text, fontName="Helvetica", fontSize=8.5, fillColor=INK))

    def bar_chart(
        self, caption: str, categories: list[str], series: list[list[float]], *, low: float = 0, high=None, counts=False
    ):
        """Grouped bars per category, series coloured from the palette in order; `counts` puts
        ticks on whole numbers."""
        height = CHART_HEIGHT + 20
        drawing = Drawing(self.width, height)
        bars = VerticalBarChart()
        bars.x, bars.y, bars.width, bars.height = 36, 22, self.width - 46, CHART_HEIGHT - 30
        bars.data = series
        bars.categoryAxis.categoryNames = [c[:18] for c in categories]
        bars.categoryAxis.labels.fontSize = 7.5
        bars.valueAxis.labels.fontSize = 7.5
        bars.valueAxis.valueMin = low
        if high is not None:
            bars.valueAxis.valueMax = high
        if counts:
            top = max([v for values in series for v in values] + [1])
            bars.valueAxis.valueMax = top
            bars.valueAxis.valueStep = max(1, -(-top // 5))
        for i in range(len(series)):
            bars.bars[i].fillColor = PALETTE[i % len(PALETTE)]
        drawing.add(bars)
        self._caption(drawing, caption, height)
        self.story += [KeepTogether([drawing]), Spacer(1, 6)]

    def time_chart(
        self,
        caption: str,
        series: list[Series],
        *,
        start: datetime,
        end: datetime,
        reference: tuple[str, float] | None = None,
        empty: str = "No data in this period.",
        y_low: float | None = None,
        y_high: float | None = None,
    ) -> bool:
        """Lines over time with dates on the x-axis (the report's clock: `start`'s time zone). With
        no points at all, `empty` is printed instead of an empty frame. Returns whether it drew."""
        lines = [(s, [(t, v) for t, v in s.points if v is not None]) for s in series]
        if not any(points for _, points in lines):
            self.text(f"{caption}: {empty}", note=True)
            return False
        height = CHART_HEIGHT + 20
        drawing = Drawing(self.width, height)
        plot = LinePlot()
        plot.x, plot.y, plot.width, plot.height = 40, 22, self.width - 50, CHART_HEIGHT - 34
        origin = start.timestamp()
        data, colours = [], []
        for i, (s, points) in enumerate(lines):
            if not points:
                continue
            data.append([(t.timestamp() - origin, v) for t, v in points])
            colours.append(s.color or PALETTE[i % len(PALETTE)])
        if reference is not None:
            data.append([(0, reference[1]), ((end - start).total_seconds(), reference[1])])
            colours.append(colors.red)
        plot.data = data
        for i, colour in enumerate(colours):
            plot.lines[i].strokeColor = colour
            plot.lines[i].strokeWidth = 1.2
            if reference is None or i < len(colours) - 1:  # a dot per value: days without one show as gaps
                plot.lines[i].symbol = makeMarker("FilledCircle", size=3, fillColor=colour, strokeColor=colour)
        span_s = (end - start).total_seconds()
        ticks = time_steps(start, end)
        plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, span_s
        plot.xValueAxis.valueSteps = [(t - start).total_seconds() for t in ticks]
        plot.xValueAxis.labelTextFormat = lambda x: _time_label(start + td(seconds=x), span_s)
        plot.xValueAxis.labels.fontSize = 7.5
        plot.yValueAxis.labels.fontSize = 7.5
        values = [v for line in data for _, v in line]
        plot.yValueAxis.valueMin = min(values) if y_low is None else y_low
        if y_high is not None:
            plot.yValueAxis.valueMax = y_high
        drawing.add(plot)
        self._caption(drawing, caption, height)
        self._legend(drawing, [s.label for s, p in lines if p] + ([reference[0]] if reference else []), colours)
        self.story += [KeepTogether([drawing]), Spacer(1, 6)]
        return True

    def _legend(self, drawing: Drawing, labels: list[str], colours: list) -> None:
        x = self.width - 10
        for label, colour in reversed(list(zip(labels, colours, strict=True))):
            width = stringWidth(label, "Helvetica", 7.5) + 24
            x -= width
            drawing.add(Line(x, CHART_HEIGHT + 13, x + 12, CHART_HEIGHT + 13, strokeColor=colour, strokeWidth=2))
            drawing.add(String(x + 15, CHART_HEIGHT + 10, label, fontName="Helvetica", fontSize=7.5, fillColor=INK))

    # -- the document ----------------------------------------------------------------------------

    def _decorate(self, canvas, doc) -> None:
        width, height = A4
        canvas.saveState()
        canvas.setFont("Helvetica-Bold", 8.5)
        canvas.setFillColor(INK)
        canvas.drawString(MARGIN, height - MARGIN + 4, PRODUCT)
        canvas.setFont("Helvetica", 8.5)
        canvas.drawRightString(width - MARGIN, height - MARGIN + 4, f"{self.title} · {self.period}"[:95])
        canvas.setStrokeColor(colors.lightgrey)
        canvas.line(MARGIN, height - MARGIN, width - MARGIN, height - MARGIN)
        canvas.line(MARGIN, MARGIN * 0.8, width - MARGIN, MARGIN * 0.8)
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, MARGIN / 2, f"Generated by {PRODUCT} on {self.generated_at:%Y-%m-%d %H:%M} UTC")
        canvas.restoreState()

    def build(self) -> bytes:
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            title=f"{self.title} — {self.period}",
            author=PRODUCT,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN + HEADER_GAP / 2,
            bottomMargin=MARGIN,
        )
        doc.build(self.story, onFirstPage=self._decorate, onLaterPages=self._decorate, canvasmaker=_NumberedCanvas)
        return buffer.getvalue()
