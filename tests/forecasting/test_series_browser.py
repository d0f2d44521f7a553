"""The series page in a real browser (Chromium against daphne) on a phone-sized screen: the charts
draw, the anomaly is listed, and "Not an anomaly" shows up as active feedback in the detection panel.

Samples go through the real ingest; scores, the anomaly, the forecast and the chosen model are
created directly, as the detection and forecasting tasks would store them.
"""

from __future__ import annotations

import functools
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from datetime import timedelta as td

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection

from core.teams.services import membership_ensure, team_get_or_create
from forecasting.models import Anomaly, Feedback, Forecast, ForecastModel, PointScore
from metrics.models import Series
from tests.browser import SERVER_REDIS_DB, artifact, chromium, daphne_server, log_in, redis_url, requires_chromium
from tests.forecasting.synthetic import send

expect = pytest.importorskip("playwright.sync_api", reason="browser test: playwright is not installed").expect

pytestmark = [requires_chromium]
with_data = pytest.mark.django_db(transaction=True)

TEAM_SLUG = "browser-pages"
PASSWORD = "correct-horse-battery-staple"
VIEWPORT = {"width": 375, "height": 812}
LOAD_TIMEOUT_MS = 10_000
SPIKE = 187.5

# Pixels of a canvas in colours close to each of several (r, g, b): one read of the canvas, since
# Chromium warns about repeated getImageData calls.
COLOUR_PIXELS_JS = """(canvas, colours) => {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  const counts = colours.map(() => 0);
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] < 200) continue;
    colours.forEach(([r, g, b], k) => {
      if (Math.abs(data[i] - r) < 30 && Math.abs(data[i + 1] - g) < 30 && Math.abs(data[i + 2] - b) < 30) counts[k]++;
    });
  }
  return counts;
}"""
VALUE_RGB, ANOMALY_RGB = [245, 166, 35], [229, 72, 77]


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    with daphne_server(log_path=tmp_path_factory.mktemp("daphne") / "daphne.log") as running:
        yield running


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as running:
        yield running


@pytest.fixture
def phone(server, browser):
    context = browser.new_context(base_url=server.wait_until_up(), viewport=VIEWPORT, device_scale_factor=1)
    yield context.new_page()
    context.close()


@functools.cache
def password_hash() -> str:
    return make_password(PASSWORD)


@pytest.fixture
def series(transactional_db):
    """Alice's series: 6 hours of one-minute samples with one spike, scored, with a forecast."""
    user = get_user_model().objects.create(username="alice", password=password_hash())
    team, _ = team_get_or_create(slug=TEAM_SLUG)
    membership_ensure(team=team, user=user)
    now = int(time.time()) // 60 * 60
    ts = np.arange(now - 6 * 3600, now, 60, dtype=np.int64)
    values = 50 + 10 * np.sin(np.arange(len(ts)) / 30)
    spike_at = len(ts) - 30
    values[spike_at] = SPIKE
    send(team, "checkout_latency", {"service": "checkout"}, ts, values)
    series = Series.objects.get(team=team, metric="checkout_latency")
    # Ingest ran the real detector (Celery is eager in tests); replace what it stored with known rows.
    PointScore.objects.filter(series=series).delete()
    Anomaly.objects.filter(series=series).delete()
    when = [datetime.fromtimestamp(int(t), UTC) for t in ts]
    expected = 50 + 10 * np.sin(np.arange(len(ts)) / 30)
    PointScore.objects.bulk_create(
        PointScore(series=series, ts=w, score=0.1, expected=e, lower=e - 6, upper=e + 6)
        for w, e in zip(when, expected, strict=True)
    )
    PointScore.objects.filter(series=series, ts=when[spike_at]).update(score=0.97)
    Anomaly.objects.create(
        team=team,
        series=series,
        ts=when[spike_at],
        value=SPIKE,
        score=0.97,
        kind="spike",
        expected=float(expected[spike_at]),
        lower=float(expected[spike_at] - 6),
        upper=float(expected[spike_at] + 6),
    )
    ForecastModel.objects.update_or_create(
        series=series,
        defaults={"model": "seasonal_naive", "backtest": {"seasonal_naive": {"mase": 0.91, "smape": 3.2}}},
    )
    steps = 24
    Forecast.objects.update_or_create(
        series=series,
        kind="short",
        defaults={
            "model": "seasonal_naive",
            "start": datetime.fromtimestamp(now, UTC),
            "step_s": 300,
            "mean": [50.0] * steps,
            "lo80": [44.0] * steps,
            "hi80": [56.0] * steps,
            "lo95": [40.0] * steps,
            "hi95": [60.0] * steps,
        },
    )
    yield series
    with connection.cursor() as cursor:  # unmanaged tables that the transactional flush leaves alone
        cursor.execute("DELETE FROM metrics_sample WHERE series_id = %s", [series.id])
        cursor.execute("DELETE FROM metrics_rollup_dirty WHERE series_id = %s", [series.id])


def watch_for_problems(page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: msg.type in ("error", "warning") and problems.append(f"console: {msg.text}"))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    return problems


@with_data
def test_a_responder_reads_the_series_on_a_phone_and_marks_the_spike_normal(phone, series):
    page = phone
    problems = watch_for_problems(page)
    log_in(page, username="alice", password=PASSWORD)

    # The front page's card title leads to the series page (once its chart is drawn, so that no
    # request of the front page is cut short by leaving it).
    expect(page.locator("[data-series] .uplot canvas")).to_have_count(1, timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("link", name="checkout_latency").click()
    expect(page).to_have_url(re.compile(rf"/series/{series.uid}/$"))
    expect(page).to_have_title("checkout_latency · HiveOps")
    expect(page.locator("#chart-status")).to_have_text("1 anomaly in this range", timeout=LOAD_TIMEOUT_MS)
    expect(page.locator("#forecast-status")).to_contain_text("forecast by seasonal_naive")

    # The value chart: one uPlot canvas across the phone's width, with the line and the anomaly marker.
    canvas = page.locator("#value-chart .uplot canvas")
    expect(canvas).to_have_count(1)
    box = canvas.bounding_box()
    assert box is not None
    assert 280 < box["width"] <= VIEWPORT["width"]
    assert box["height"] > 150
    line, marker = canvas.evaluate(COLOUR_PIXELS_JS, [VALUE_RGB, ANOMALY_RGB])
    assert line > 100, "no value line drawn"
    assert marker > 20, "no anomaly marker drawn"
    expect(page.locator("#score-chart .uplot canvas")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"], "the page scrolls sideways"
    table = page.locator("#anomaly-panel .table-scroll")
    assert table.evaluate("el => el.scrollWidth <= el.clientWidth"), "the anomaly table does not fit the phone"

    row = page.locator("#anomaly-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Spike")
    expect(row).to_contain_text(f"{SPIKE:.2f}")
    expect(page.locator("#feedback-count")).to_have_text("0")
    expect(page.locator("#alert-threshold")).to_have_text("0.800")

    row.get_by_role("button", name="Not an anomaly").click()
    feedback = page.locator("#feedback-list li")
    expect(feedback).to_have_count(1)
    expect(feedback).to_contain_text("Not an anomaly (spike) · alice")
    expect(page.locator("#feedback-count")).to_have_text("1")
    expect(page.locator("#alert-threshold")).to_have_text("0.900")
    expect(row).to_contain_text("marked normal")
    assert Feedback.objects.filter(series=series, revoked_at=None, kind="spike").count() == 1

    page.screenshot(path=artifact("series-phone.png"), full_page=True)

    feedback.get_by_role("button", name="Revoke").click()
    expect(feedback).to_have_count(0)
    expect(page.locator("#alert-threshold")).to_have_text("0.800")
    expect(row.get_by_role("button", name="Not an anomaly")).to_be_visible()
    assert Feedback.objects.get(series=series).revoked_at is not None
    assert not problems, problems


@pytest.fixture
def server_publish(monkeypatch, settings):
    """`forecasting.events` publishes through the real `core.live.publish`, but to the test
    server's channel layers (its own Redis db) and from a thread of its own: Playwright keeps an
    event loop running in this one."""
    from core import live
    from forecasting import events

    settings.CHANNEL_LAYERS = {  # channels drops its cached layers when this setting changes
        alias: {**layer, "CONFIG": {**layer.get("CONFIG", {}), "hosts": [redis_url(SERVER_REDIS_DB)]}}
        for alias, layer in settings.CHANNEL_LAYERS.items()
    }

    def publish(team_id: int, event: dict) -> None:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(live.publish, team_id, event).result()

    monkeypatch.setattr(events, "publish", publish)


@with_data
def test_new_anomalies_appear_live_on_the_anomalies_page(phone, series, server_publish):
    from forecasting.events import anomalies_publish

    page = phone
    problems = watch_for_problems(page)
    log_in(page, username="alice", password=PASSWORD)
    expect(page.locator("[data-series] .uplot canvas")).to_have_count(1, timeout=LOAD_TIMEOUT_MS)  # as above
    page.goto("/anomalies/?kind=spike")
    expect(page.locator("#anomaly-rows tr")).to_have_count(1)  # the fixture's spike
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=LOAD_TIMEOUT_MS)

    now = datetime.now(UTC)
    drop = Anomaly.objects.create(
        team=series.team, series=series, ts=now - td(seconds=1), value=-3.5, score=0.91, kind="drop"
    )
    spike = Anomaly.objects.create(
        team=series.team, series=series, ts=now, value=321.25, score=0.88, kind="spike", lower=40.0, upper=60.0
    )
    # The socket says "live" once accepted; the server's subscription to the team's events may
    # settle a moment later. Publish the pair (the drop, filtered out by kind, first) until the
    # spike arrives: events of one team arrive in order, so the drop went through too.
    rows = page.locator("#anomaly-rows tr")
    for _ in range(10):
        anomalies_publish([drop])
        anomalies_publish([spike])
        try:
            expect(rows.first).to_contain_text("321.25", timeout=1_000)
            break
        except AssertionError:
            continue
    expect(rows.first).to_contain_text("321.25")
    expect(rows.first).to_contain_text("40.00–60.00")
    expect(rows.first).to_contain_text("Spike")
    expect(rows.last).to_contain_text(f"{SPIKE:.2f}")  # the server-rendered row stays below
    expect(page.locator("#anomaly-rows")).not_to_contain_text("-3.50")
    rows.first.get_by_role("link", name="checkout_latency").click()
    expect(page).to_have_url(re.compile(rf"/series/{series.uid}/$"))
    expect(page.locator("#chart-status")).to_have_text("3 anomalies in this range", timeout=LOAD_TIMEOUT_MS)
    assert not problems, problems
