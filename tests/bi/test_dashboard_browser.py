"""The executive dashboard in a real browser (daphne + Debian's Chromium): the figures on the page
equal the JSON API's, an incident event over the live WebSocket refreshes them without a reload,
and the page fits a 360 px wide phone. Screenshots: .artifacts/executive.png, executive-phone.png."""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta as td

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone

from alerts.models import Incident
from core.teams.services import membership_ensure, team_get_or_create
from tests.alerts.factories import service
from tests.bi.conftest import record_hours
from tests.browser import SERVER_REDIS_DB, artifact, chromium, daphne_server, log_in, redis_url, requires_chromium
from tests.slo.slo_factories import sla, slo

expect = pytest.importorskip("playwright.sync_api", reason="browser test: playwright is not installed").expect

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-horse-battery-staple"
PHONE = {"width": 360, "height": 780}


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    with daphne_server(log_path=tmp_path_factory.mktemp("bi") / "daphne.log") as running:
        yield running


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as running:
        yield running


@functools.cache
def password_hash() -> str:
    return make_password(PASSWORD)


def incident(team, key, svc, priority, opened, ack_min, resolve_min) -> Incident:
    return Incident.objects.create(
        team=team,
        service=svc,
        group_key=key,
        title=f"{svc.name} trouble {key}",
        status="resolved",
        priority=priority,
        opened_at=opened,
        acknowledged_at=opened + td(minutes=ack_min),
        resolved_at=opened + td(minutes=resolve_min),
        time_to_acknowledge=td(minutes=ack_min),
        time_to_resolve=td(minutes=resolve_min),
    )


@pytest.fixture
def executive():
    """A team with two services, resolved incidents well inside the last 7 days (so the figures
    do not move while the test runs), an SLO with a week of recorded hours and an SLA."""
    user = get_user_model().objects.create(username="ceo", password=password_hash())
    team, _ = team_get_or_create(slug="bi-browser", name="Shop")
    membership_ensure(team=team, user=user)
    checkout = service(team, "checkout", revenue_per_minute="120.00")
    search = service(team, "search", revenue_per_minute="15.50")
    day = timezone.now().replace(minute=0, second=0, microsecond=0) - td(days=5)
    incident(team, "a", checkout, 1, day, 7, 45)
    incident(team, "b", search, 3, day + td(days=1), 25, 190)
    incident(team, "c", checkout, 2, day + td(days=2), 12, 75)
    incident(team, "d", search, 4, day + td(days=3, hours=4), 41, 300)
    objective = slo(team, name="Checkout availability", service=checkout, objective=99.0)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    record_hours(objective, hour - td(days=8), hour + td(hours=1), 9.97)
    sla(team, objective, customer="ACME", target=99.9)
    return user, team, checkout


def outside_the_loop(fn, *args):
    """ORM writes and publishing from another thread: Playwright keeps an event loop in this one."""

    def run():
        try:
            return fn(*args)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


@pytest.fixture
def server_channels(settings):
    """Publish to the test server's channel layers (its own Redis database)."""
    settings.CHANNEL_LAYERS = {
        alias: {**layer, "CONFIG": {**layer.get("CONFIG", {}), "hosts": [redis_url(SERVER_REDIS_DB)]}}
        for alias, layer in settings.CHANNEL_LAYERS.items()
    }


def shown(page, key: str) -> str:
    return page.locator(f'[data-kpi="{key}"]').first.inner_text().strip()


def money(x) -> str:
    return "–" if x is None else f"{x:.2f}"


def assert_page_matches(page, data: dict) -> None:
    c = data["current"]
    assert shown(page, "health.score") == str(data["health"]["score"])
    assert shown(page, "previous_health.score") == str(data["previous_health"]["score"])
    assert shown(page, "current.incidents") == str(c["incidents"])
    for name, n in c["incidents_by_priority"].items():
        assert shown(page, f"current.incidents_by_priority.{name}") == str(n)
    assert shown(page, "current.mtta_minutes") == money(c["mtta_minutes"])
    assert shown(page, "current.mttr_minutes") == money(c["mttr_minutes"])
    assert shown(page, "current.revenue_impact") == money(c["revenue_impact"])
    assert shown(page, "current.customers_affected") == str(c["customers_affected"])
    for key in ("slo_met", "slo_total", "sla_met", "sla_total"):
        assert shown(page, f"current.{key}") == str(c[key])
    for key, value in data["health"]["components"].items():
        assert shown(page, f"health.components.{key}") == ("–" if value is None else str(value))


def test_the_dashboard_shows_the_apis_numbers_and_updates_live(server, browser, executive, server_channels):
    user, team, checkout = executive
    context = browser.new_context(base_url=server.wait_until_up(), viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, username=user.username, password=PASSWORD)
    page.goto("/business/?period=7d")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=15_000)
    expect(page.locator("#trend-chart .uplot canvas")).to_have_count(1)

    data = page.request.get("/api/v1/bi/summary?period=7d").json()
    assert data["current"]["incidents"] == 4
    assert data["current"]["customers_affected"] == 1
    assert data["current"]["revenue_impact"] == pytest.approx(
        45 * 120 + 190 * 15.5 * 0.25 + 75 * 120 * 0.5 + 300 * 15.5 * 0.1
    )
    assert_page_matches(page, data)
    page.screenshot(path=artifact("executive.png"), full_page=True)

    # A new P1 arrives: the incident event over the WebSocket refreshes the figures in place.
    page.evaluate("window.__noReload = true")
    opened = timezone.now() - td(hours=3)
    outside_the_loop(incident, team, "e", checkout, 1, opened, 3, 30)
    new = Incident.objects.get(group_key="e")
    event = {"type": "incident.changed", "id": str(new.uid), "status": "resolved", "priority": 1, "title": new.title}
    from core.live import publish

    for _ in range(10):  # the server's subscription may settle just after the socket says "live"
        outside_the_loop(publish, team.id, event)
        try:
            expect(page.locator('[data-kpi="current.incidents"]')).to_have_text("5", timeout=3_000)
            break
        except AssertionError:
            continue
    expect(page.locator('[data-kpi="current.incidents"]')).to_have_text("5")
    assert page.evaluate("window.__noReload") is True  # the same page: no reload
    data = page.request.get("/api/v1/bi/summary?period=7d").json()
    assert data["current"]["incidents_by_priority"]["P1"] == 2
    assert_page_matches(page, data)
    assert not errors, errors
    context.close()


def test_the_dashboard_fits_a_phone(server, browser, executive):
    user, _, _ = executive
    context = browser.new_context(base_url=server.wait_until_up(), viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, username=user.username, password=PASSWORD)
    page.goto("/business/?period=30d")
    expect(page.locator('[data-kpi="health.score"]')).to_be_visible()
    page.get_by_role("link", name="quarter").tap()
    expect(page.locator("#bi-period-label")).to_have_text("quarter to date")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=artifact("executive-phone.png"), full_page=True)
    context.close()
