"""The front page in a real browser: Chromium against daphne (HTTP and the live WebSocket).

Series are created with the ingest service; later points go through the HTTP ingest API, which is
what makes the server publish the `metric.tick` events the page listens to.
"""

from __future__ import annotations

import functools
import json
import math
import re
import tempfile
import time
from pathlib import Path

import orjson
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection

from core.teams.services import api_token_create, membership_ensure, team_get_or_create
from metrics.ingest import parse_json
from metrics.models import Series
from metrics.services import samples_ingest
from tests.browser import chromium, daphne_server, log_in, post_json, requires_chromium

expect = pytest.importorskip("playwright.sync_api", reason="browser test: playwright is not installed").expect

# Tests that create data commit it (transaction=True) so that the server process can read it.
pytestmark = [requires_chromium]
with_data = pytest.mark.django_db(transaction=True)

TEAM_PREFIX = "browser-"
PASSWORD = "correct-horse-battery-staple"
SCREENSHOT = Path(tempfile.gettempdir()) / "home.png"
VIEWPORT = {"width": 1280, "height": 800}
LOAD_TIMEOUT_MS = LIVE_TIMEOUT_MS = 10_000
# home.js refreshes at most every 5 s on ticks and every 30 s without them: an update within this
# timeout can only have been caused by the WebSocket.
TICK_UPDATE_TIMEOUT_MS = 12_000

# How many pixels of a chart canvas have the series stroke colour (#f5a623).
STROKE_PIXELS_JS = """(canvas) => {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0 && data[i] > 200 && data[i + 1] > 120 && data[i + 1] < 210 && data[i + 2] < 110) n++;
  }
  return n;
}"""
# "open" if the page may open the live WebSocket, else the close code it gets.
OPEN_LIVE_SOCKET_JS = """() => new Promise((resolve) => {
  const ws = new WebSocket(`ws://${location.host}/ws/live/`);
  ws.onopen = () => { ws.close(); resolve("open"); };
  ws.onclose = (event) => resolve(event.code);
})"""


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    with daphne_server(log_path=tmp_path_factory.mktemp("daphne") / "daphne.log") as running:
        yield running


@pytest.fixture(scope="module")
def browser(server):  # after the server, so that daphne starts while Chromium does
    with chromium() as running:
        yield running


@pytest.fixture
def new_page(server, browser):
    """Pages in fresh browser contexts (own cookies) on the test server, closed after the test."""
    contexts = []

    def make():
        context = browser.new_context(base_url=server.wait_until_up(), viewport=VIEWPORT)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@functools.cache
def password_hash() -> str:
    return make_password(PASSWORD)  # slow on purpose: hash once


@pytest.fixture
def member(transactional_db):
    """Makes a user who belongs to one team; returns the team and an ingest token of it."""

    def make(username: str, team_slug: str):
        user = get_user_model().objects.create(username=username, password=password_hash())
        team, _ = team_get_or_create(slug=TEAM_PREFIX + team_slug)
        membership_ensure(team=team, user=user)
        _, token = api_token_create(team=team, name="browser test", scopes=["ingest"])
        return team, token

    yield make
    # Samples live in unmanaged tables that the transactional flush leaves alone.
    ids = list(Series.objects.filter(team__slug__startswith=TEAM_PREFIX).values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM metrics_sample WHERE series_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM metrics_rollup_dirty WHERE series_id = ANY(%s)", [ids])


def minutes(last: float, *, now: int, count: int = 45) -> list[list[float]]:
    """One point a minute up to the minute before the current one, ending with `last`."""
    minute = now - now % 60
    points = [[minute - 60 * k, round(last + 4 * math.sin(k / 4), 3)] for k in range(count, 1, -1)]
    return [*points, [minute - 60, last]]


def ingest(team, series: list[dict]) -> list[Series]:
    """Write series with samples_ingest; returns their rows in the order given."""
    batch = parse_json(orjson.dumps({"series": series}), max_points=settings.HIVEOPS_INGEST_MAX_POINTS)
    result = samples_ingest(team_id=team.id, batch=batch)
    assert result.accepted == sum(len(s["points"]) for s in series)
    return [Series.objects.get(team=team, metric=s["metric"], labels=s.get("labels", {})) for s in series]


def one_point(series: Series, ts: int, value: float) -> dict:
    item = {"metric": series.metric, "labels": series.labels, "unit": series.unit, "points": [[ts, value]]}
    return {"series": [item]}


def shown(value: float) -> str:
    return f"{value:.2f}"  # as the template (floatformat:2) and home.js (toFixed(2)) print it


def watch_for_problems(page) -> list[str]:
    """JS errors, console errors and warnings (home.js warns when a query fails), failed requests
    and HTTP errors. The site has no favicon: the browser's request for it is ignored."""
    problems: list[str] = []

    def on_console(msg) -> None:
        if msg.type in ("error", "warning") and not msg.location.get("url", "").endswith("/favicon.ico"):
            problems.append(f"console {msg.type}: {msg.text}")

    def on_response(response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            problems.append(f"HTTP {response.status}: {response.url}")

    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", on_console)
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url} {request.failure}"))
    page.on("response", on_response)
    return problems


@with_data
def test_front_page_shows_live_charts_of_the_team(server, new_page, member):
    now = int(time.time())
    team, token = member("alice", "alpha")
    specs = [  # metric, labels, unit, newest value
        ("cpu_usage", {"host": "web-1", "region": "eu-west"}, "percent", 41.25),
        ("cpu_usage", {"host": "web-2", "region": "eu-west"}, "percent", 63.5),
        ("queue_depth", {"queue": "emails"}, "jobs", 7),
    ]
    series = ingest(
        team, [{"metric": m, "labels": lbl, "unit": u, "points": minutes(last, now=now)} for m, lbl, u, last in specs]
    )
    hot, spike = series[0], 987.65

    page = new_page()
    problems = watch_for_problems(page)
    frames: list[dict] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(json.loads(payload))))

    log_in(page, username="alice", password=PASSWORD)
    expect(page).to_have_title("Metrics · HiveOps")
    expect(page.locator(".page-head")).to_contain_text("Showing 3 of 3 series")

    # One card per series, in metric order, with its name, labels, unit and latest value.
    cards = page.locator("#series-grid [data-series]")
    expect(cards).to_have_count(3)
    assert cards.evaluate_all("cards => cards.map(c => c.dataset.series)") == [str(s.uid) for s in series]
    for s, (metric, labels, unit, last) in zip(series, specs, strict=True):
        card = page.locator(f'[data-series="{s.uid}"]')
        expect(card.locator(".metric")).to_have_text(metric)
        expect(card.locator(".labels .label")).to_have_text([f"{k}={v}" for k, v in sorted(labels.items())])
        expect(card.locator(".unit")).to_have_text(unit)
        expect(card.locator("[data-latest]")).to_have_text(shown(last))
        # The chart exists once query_range answered: a uPlot canvas, sized, with the line drawn.
        canvas = card.locator("[data-chart] .uplot canvas")
        expect(canvas).to_have_count(1, timeout=LOAD_TIMEOUT_MS)
        box = canvas.bounding_box()
        assert box is not None
        assert box["width"] > 200
        assert box["height"] > 80
        assert canvas.evaluate(STROKE_PIXELS_JS) > 20, f"no line drawn on the chart of {s}"

    status = page.locator("#live-status")
    expect(status).to_have_attribute("data-state", "live", timeout=LIVE_TIMEOUT_MS)
    expect(status).to_have_text("live")

    # A new point over HTTP: the server publishes metric.tick and the card updates in place.
    page.evaluate("window.__sameDocument = true")
    code, body = post_json(f"{server.url}/api/v1/ingest", one_point(hot, now, spike), token=token)
    assert (code, body) == (200, {"accepted": 1, "duplicates": 0, "series": 1})
    latest = page.locator(f'[data-series="{hot.uid}"] [data-latest]')
    expect(latest).to_have_text(shown(spike), timeout=TICK_UPDATE_TIMEOUT_MS)
    assert [f["type"] for f in frames] == ["metric.tick"], frames
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    for s, (*_, last) in zip(series[1:], specs[1:], strict=True):
        expect(page.locator(f'[data-series="{s.uid}"] [data-latest]')).to_have_text(shown(last))
    expect(status).to_have_attribute("data-state", "live")

    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(15, 20, 25)"
    page.screenshot(path=SCREENSHOT, full_page=True)
    assert not problems, problems


def test_anonymous_visitor_is_sent_to_the_login_page(new_page):
    page = new_page()
    response = page.goto("/")
    assert response is not None
    assert response.ok
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.locator("[data-series]")).to_have_count(0)
    # Neither the data nor the live events are open to anonymous visitors.
    assert page.request.get("/api/v1/series").status in (401, 403)
    assert page.evaluate(OPEN_LIVE_SOCKET_JS) != "open"


@with_data
def test_user_of_another_team_does_not_see_the_series(server, new_page, member):
    now = int(time.time())
    alpha, alpha_token = member("alice", "alpha")
    beta, beta_token = member("bob", "beta")
    (secret,) = ingest(
        alpha, [{"metric": "alpha_secret", "labels": {"customer": "acme"}, "points": minutes(1234.5, now=now)}]
    )
    (own,) = ingest(beta, [{"metric": "beta_requests", "labels": {"env": "prod"}, "points": minutes(3, now=now)}])

    page = new_page()
    problems = watch_for_problems(page)
    with page.expect_websocket() as ws_info:
        log_in(page, username="bob", password=PASSWORD)
    frames: list[dict] = []
    ws_info.value.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    card = page.locator("[data-series]")
    expect(card).to_have_count(1)
    expect(card).to_have_attribute("data-series", str(own.uid))
    expect(card.locator(".metric")).to_have_text("beta_requests")
    expect(page.locator(".page-head")).to_contain_text("Showing 1 of 1 series")
    expect(page.locator("main")).not_to_contain_text("alpha_secret")
    expect(page.locator("main")).not_to_contain_text("1234.50")
    start = now - 3600
    assert page.request.get(f"/api/v1/query_range?series={secret.uid}&start={start}&step=60").status == 404
    assert page.request.get(f"/api/v1/query_range?series={own.uid}&start={start}&step=60").ok

    # Live events are per team. Alpha's tick is published first, so had it leaked to bob it
    # would have arrived before the tick of beta's own ingest.
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=LIVE_TIMEOUT_MS)
    assert post_json(f"{server.url}/api/v1/ingest", one_point(secret, now, 99.0), token=alpha_token)[0] == 200
    between = time.time()
    with ws_info.value.expect_event("framereceived", timeout=LIVE_TIMEOUT_MS):
        assert post_json(f"{server.url}/api/v1/ingest", one_point(own, now, 4.0), token=beta_token)[0] == 200
    assert [f["type"] for f in frames] == ["metric.tick"], frames
    assert frames[0]["at"] >= between, "bob received the tick of alpha's ingest"
    assert not problems, problems
