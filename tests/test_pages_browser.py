"""Every page a user reaches from the navigation, plus one detail page of each kind, in a real
Chromium at phone (390×844) and desktop (1440×900) size, on the demo content `make run` loads.

Each page is checked for what made the pages look unfinished: the document or a card wider than
the screen, chart and card boxes drawn over each other, table cells too narrow for their words
(one letter per line), JavaScript errors, failed requests, and raw values in the text (Python
`None`, `NaN`, ISO timestamps with microseconds, floats with five or more decimals). All problems
of all pages are collected and reported together. Screenshots: .artifacts/pages/<page>-<size>.png.
"""

from __future__ import annotations

import contextlib
import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta as td
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from alerts.models import Incident
from capacity.models import Resource
from metrics.models import Series
from slo.models import SLO
from tests.browser import artifact, chromium, daphne_server, log_in, requires_chromium

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1440, "height": 900}}
USERNAME, PASSWORD = "admin", "hiveops-layout-test"
SKIP_NAV = {"/admin/", "/mail/"}  # Django's admin (h16admin restyles it) and the mail sink (development only)
RAW_VALUES = {
    "Python None": re.compile(r"\bNone\b"),
    "NaN": re.compile(r"\bNaN\b"),
    "undefined": re.compile(r"\bundefined\b"),
    "ISO timestamp with microseconds": re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+"),
    "float with 5+ decimals": re.compile(r"(?<![\w.])-?\d+\.\d{5,}\b"),
}

# Runs in the page; returns a list of problems (strings).
LAYOUT_JS = (Path(__file__).with_name("page_layout.js")).read_text()


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
    links = page.eval_on_selector_all(
        "header nav a[href]", "els => els.map(a => [a.textContent.trim(), a.getAttribute('href')])"
    )
    return {
        re.sub(r"\W+", "-", text.lower()).strip("-"): href
        for text, href in links
        if href.startswith("/") and href not in SKIP_NAV
    }


def assert_menu_folds(page) -> None:
    """Phones: the links hide behind one "Menu" button that opens them."""
    nav = page.locator("#main-nav")
    assert not nav.is_visible(), "the navigation should fold into a menu on a phone"
    assert page.locator("header.topbar").bounding_box()["height"] < 80
    page.get_by_role("button", name="Menu").click()
    assert nav.get_by_role("link", name="SLOs").is_visible()
    page.get_by_role("button", name="Menu").click()
    assert not nav.is_visible()


def context(text: str, match: re.Match) -> str:
    return " ".join(text[max(0, match.start() - 25) : match.end() + 15].split())


def check(page, url: str) -> list[str]:
    """Open one page and return its problems."""
    errors: list[str] = []
    on_error = lambda exc: errors.append(f"JavaScript error: {exc}")  # noqa: E731
    on_console = lambda msg: msg.type == "error" and errors.append(f"console error: {msg.text[:200]}")  # noqa: E731
    # A request the page itself cancels (a newer chart load, leaving the page) is not a failure.
    on_failed = lambda req: "ERR_ABORTED" not in (req.failure or "") and errors.append(  # noqa: E731
        f"request failed: {req.method} {req.url} ({req.failure})"
    )
    on_response = lambda resp: resp.status >= 400 and errors.append(  # noqa: E731
        f"HTTP {resp.status}: {resp.request.method} {resp.url}"
    )
    page.on("pageerror", on_error)
    page.on("console", on_console)
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    try:
        page.goto(url, wait_until="load")
        # Charts fetch their data after load; a page with a polling feed never goes idle: check what it has.
        with contextlib.suppress(Exception):
            page.wait_for_load_state("networkidle", timeout=5_000)
        page.wait_for_timeout(150)  # one more frame for charts sized from their data
        problems = list(page.evaluate(LAYOUT_JS))
        text = page.inner_text("body")
        for what, pattern in RAW_VALUES.items():
            found = sorted({context(text, m) for m in pattern.finditer(text)})
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
        page.set_default_timeout(60_000)  # a shared 2-core machine under a full test run is slow
        log_in(page, username=USERNAME, password=PASSWORD)
        if size == "phone":
            assert_menu_folds(page)
        pages = {**nav_pages(page), **detail_pages()}
        assert len(pages) >= 15, f"too few pages found: {sorted(pages)}"
        for name, url in pages.items():
            problems = check(page, url)
            visited += 1
            page.screenshot(path=artifact(f"pages/{name}-{size}.png"), full_page=True)
            failures += [f"{name} ({size}, {urlsplit(url).path}): {p}" for p in problems]
        context.close()
    assert not failures, f"{len(failures)} problems on {visited} page views:\n" + "\n".join(failures)
