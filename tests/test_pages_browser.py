"""Every page a user reaches from the navigation, plus one detail page of each kind, in a real
Chromium at phone (390×844) and desktop (1440×900) size, on the demo content `make run` loads.

Each page is checked for what made the pages look unfinished: the document or a card wider than
the screen, chart and card boxes drawn over each other, table cells too narrow for their words
(one letter per line), JavaScript errors, failed requests, and raw values in the text (Python
`None`, `NaN`, ISO timestamps with microseconds, floats with five or more decimals). All problems
of all pages are collected and reported together. Screenshots: .artifacts/pages/<page>-<size>.png.
"""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta as td
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from alerts.models import SLO, Incident
from capacity.models import Resource
from metrics.models import Series
from tests.browser import artifact, chromium, daphne_server, log_in, requires_chromium

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1440, "height": 900}}
USERNAME, PASSWORD = "admin", "hiveops-layout-test"
SKIP_NAV = {"/admin/", "/api/docs/", "/mail/"}  # not HiveOps pages: Django's admin, Swagger UI, the mail sink
RAW_VALUES = {
    "Python None": re.compile(r"\bNone\b"),
    "NaN": re.compile(r"\bNaN\b"),
    "undefined": re.compile(r"\bundefined\b"),
    "ISO timestamp with microseconds": re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+"),
    "float with 5+ decimals": re.compile(r"(?<![\w.])-?\d+\.\d{5,}\b"),
}

# Runs in the page; returns a list of problems (strings). Boxes are compared in page coordinates.
LAYOUT_JS = r"""
() => {
  const out = [];
  const vw = document.documentElement.clientWidth;
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    const cls = [...el.classList].slice(0, 3).join('.');
    if (cls) s += '.' + cls;
    const text = (el.innerText || '').trim().split('\n')[0].slice(0, 40);
    return text ? `${s} "${text}"` : s;
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) return false;
    const cs = getComputedStyle(el);
    return cs.visibility !== 'hidden' && cs.display !== 'none';
  };
  const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const inScroller = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) if (scrolls(p)) return true;
    return false;
  };
  // 1. the document
  const docWidth = document.documentElement.scrollWidth;
  if (docWidth > vw + 1) {
    const wide = [...document.querySelectorAll('body *')].filter(
      (el) => visible(el) && !inScroller(el) && el.getBoundingClientRect().right > vw + 1);
    const leaf = wide.filter((el) => !wide.some((o) => o !== el && el.contains(o))).slice(0, 3).map(name);
    out.push(`document is ${docWidth}px wide in a ${vw}px window (widest: ${leaf.join('; ')})`);
  }
  // 2. cards: inside the window, their content inside them
  const cards = [...document.querySelectorAll('main .card, main .chart-card, main dialog[open]')].filter(visible);
  for (const card of cards) {
    if (inScroller(card)) continue;
    const r = card.getBoundingClientRect();
    if (r.left < -1 || r.right > vw + 1) out.push(`card outside the window (${Math.round(r.left)}..${Math.round(r.right)}px): ${name(card)}`);
    if (card.scrollWidth > card.clientWidth + 2 && !scrolls(card)) out.push(`content overflows its card by ${card.scrollWidth - card.clientWidth}px: ${name(card)}`);
  }
  // 3. chart and card boxes drawn over each other (nested boxes are fine)
  const boxes = [...document.querySelectorAll('main .card, main .chart-card, main .uplot, main .u-legend, main canvas, main svg.chart, main .chart, main .chart-big')]
    .filter(visible);
  const rects = boxes.map((el) => { const r = el.getBoundingClientRect(); return [r.left + scrollX, r.top + scrollY, r.right + scrollX, r.bottom + scrollY]; });
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.contains(b) || b.contains(a)) continue;
      const [l1, t1, r1, b1] = rects[i], [l2, t2, r2, b2] = rects[j];
      const w = Math.min(r1, r2) - Math.max(l1, l2), h = Math.min(b1, b2) - Math.max(t1, t2);
      if (w > 2 && h > 2) out.push(`${name(a)} and ${name(b)} overlap (${Math.round(w)}×${Math.round(h)}px)`);
    }
  }
  // 4. table cells too narrow: a word broken inside a cell, or content spilling out of it
  const canvas = document.createElement('canvas').getContext('2d');
  for (const cell of document.querySelectorAll('main td, main th')) {
    if (!visible(cell)) continue;
    const cs = getComputedStyle(cell);
    const inner = cell.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    if (cell.scrollWidth > cell.clientWidth + 2 && cs.overflowX === 'visible') {
      out.push(`content spills out of a table cell (${cell.scrollWidth}px in ${cell.clientWidth}px): ${name(cell)}`);
      continue;
    }
    // words as the browser may break them without harm: at spaces, commas, dashes, braces, "=", "/"
    const words = (cell.innerText || '').split(/[\s,;:=/{}()\[\]–—-]+/).filter((w) => w.length > 1 && w.length <= 24);
    if (!words.length) continue;
    canvas.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const widest = Math.max(...words.map((w) => canvas.measureText(w).width));
    if (widest > inner + 2) out.push(`table cell ${Math.round(inner)}px wide breaks a ${Math.round(widest)}px word: ${name(cell)}`);
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    with daphne_server(log_path=tmp_path_factory.mktemp("pages") / "daphne.log") as running:
        yield running


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as running:
        yield running


@pytest.fixture
def demo(settings, tmp_path):
    """What `make run` loads: the demo team, admin, services, rules and policy, then the content.
    Loaded from another thread: Playwright keeps an event loop in this one, and the tasks run
    eagerly here publish live events through async_to_sync, which refuses to run beside it."""
    settings.RUN_DIR = tmp_path  # demo_setup writes the generator's token file there

    def load():
        try:
            out = io.StringIO()
            call_command("demo_setup", url="http://127.0.0.1/", username=USERNAME, password=PASSWORD, stdout=out)
            call_command("demo_content", username=USERNAME, stdout=out)
            return get_user_model().objects.get(username=USERNAME)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(load).result()


def detail_pages() -> dict[str, str]:
    """One page of each kind, by its name in the report."""
    month = (timezone.now().replace(day=1) - td(days=1)).strftime("%Y-%m")
    incident = Incident.objects.order_by("-opened_at").first()
    series = Series.objects.filter(metric="http_latency_p95").order_by("id").first()
    return {
        "incident": f"/incidents/{incident.uid}/",
        "series": f"/series/{series.uid}/",
        "slo": f"/slos/{SLO.objects.get(name='Checkout availability').uid}/",
        "sla-report": f"/slos/reports/?month={month}",
        "capacity-resource": f"/capacity/{Resource.objects.order_by('id').first().uid}/",
        "recommendations": "/recommendations/",
        "oncall": "/oncall/",
        "correlations": "/business/correlations/?rows=http_errors&columns=http_latency_p95&period=24h",
    }


def nav_pages(page) -> dict[str, str]:
    links = page.eval_on_selector_all("header nav a[href]", "els => els.map(a => [a.innerText.trim(), a.getAttribute('href')])")
    return {
        re.sub(r"\W+", "-", text.lower()).strip("-"): href
        for text, href in links
        if href.startswith("/") and href not in SKIP_NAV
    }


def check(page, url: str) -> list[str]:
    """Open one page and return its problems."""
    errors: list[str] = []
    on_error = lambda exc: errors.append(f"JavaScript error: {exc}")  # noqa: E731
    on_console = lambda msg: msg.type == "error" and errors.append(f"console error: {msg.text[:200]}")  # noqa: E731
    # A request the page itself cancels (a newer chart load, leaving the page) is not a failure.
    on_failed = lambda req: "ERR_ABORTED" not in (req.failure or "") and errors.append(  # noqa: E731
        f"request failed: {req.method} {req.url} ({req.failure})"
    )
    on_response = lambda resp: resp.status >= 400 and errors.append(f"HTTP {resp.status}: {resp.request.method} {resp.url}")  # noqa: E731
    page.on("pageerror", on_error)
    page.on("console", on_console)
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    try:
        page.goto(url, wait_until="load")
        try:
            page.wait_for_load_state("networkidle", timeout=5_000)  # charts fetch their data after load
        except Exception:  # noqa: BLE001 -- a page with a polling feed never goes idle; check what it has
            pass
        page.wait_for_timeout(150)  # one more frame for charts sized from their data
        problems = list(page.evaluate(LAYOUT_JS))
        text = page.inner_text("body")
        for what, pattern in RAW_VALUES.items():
            found = sorted({" ".join(text[max(0, m.start() - 25) : m.end() + 15].split()) for m in pattern.finditer(text)})
            if found:
                problems.append(f"raw value ({what}) in the text: {' | '.join(found[:4])}")
    finally:
        page.remove_listener("pageerror", on_error)
        page.remove_listener("console", on_console)
        page.remove_listener("requestfailed", on_failed)
        page.remove_listener("response", on_response)
    return errors + problems


def test_every_page_fits_phone_and_desktop_without_raw_values(server, browser, demo):
    base = server.wait_until_up()
    failures: list[str] = []
    visited = 0
    for size, viewport in SIZES.items():
        context = browser.new_context(base_url=base, viewport=viewport)
        page = context.new_page()
        log_in(page, username=USERNAME, password=PASSWORD)
        pages = {**nav_pages(page), **detail_pages()}
        assert len(pages) >= 15, f"too few pages found: {sorted(pages)}"
        for name, url in pages.items():
            problems = check(page, url)
            visited += 1
            page.screenshot(path=artifact(f"pages/{name}-{size}.png"), full_page=True)
            failures += [f"{name} ({size}, {urlsplit(url).path}): {p}" for p in problems]
        context.close()
    assert not failures, f"{len(failures)} problems on {visited} page views:\n" + "\n".join(failures)
