"""The model card in a real browser (Chromium against daphne) at 390 px and 1440 px: the
cross-validated figures lead, the tables sit side by side with the anchors, nothing is wider than
the screen, and the run details (blend names, folds) are folded away until asked for."""

from __future__ import annotations

import functools

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from core.teams.services import membership_ensure, team_get_or_create
from forecasting.models import EvaluationRun
from tests.browser import artifact, chromium, daphne_server, log_in, requires_chromium

pytest.importorskip("playwright.sync_api", reason="browser test: playwright is not installed")

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-horse-battery-staple"
BLEND = "mean(snaive*21+profile*40+daily_weekly*39)"


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    with daphne_server(log_path=tmp_path_factory.mktemp("daphne") / "daphne.log") as running:
        yield running


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as running:
        yield running


@functools.cache
def password_hash() -> str:
    return make_password(PASSWORD)


@pytest.fixture
def runs(transactional_db):
    user = get_user_model().objects.create(username="carol", password=password_hash())
    team, _ = team_get_or_create(slug="model-card")
    membership_ensure(team=team, user=user)
    EvaluationRun.objects.create(
        kind="nab_cv",
        dataset="/work/shared/datasets/nab-dev/data",
        series=41,
        scores={"standard": 63.2, "low_fp": 47.0, "low_fn": 68.69},
        details={"all_trained": {"standard": 66.41, "low_fp": 56.49, "low_fn": 71.35, "variant": "production"}},
    )
    EvaluationRun.objects.create(
        kind="m4",
        dataset="/work/shared/datasets/m4-hourly-dev/Hourly-train.csv",
        series=207,
        scores={"smape": 8.115, "mase": 0.838, "owa": 0.433},
        details={"members": {BLEND: 40, "median(snaive+profile+theta)": 12, "theta": 80}, "horizon": 48},
    )
    EvaluationRun.objects.create(
        kind="m4_cv",
        dataset="/work/shared/datasets/m4-hourly-dev/Hourly-train.csv",
        series=207,
        scores={"smape": 8.115, "mase": 0.838, "owa": 0.433, "coverage80": 0.87, "coverage95": 0.959},
        details={"folds": 5, "in_sample": {"smape": 8.115, "mase": 0.838, "owa": 0.433}},
    )


@pytest.mark.parametrize("width", [390, 1440])
def test_the_model_card_fits_the_screen_and_folds_the_details(server, browser, runs, width):
    context = browser.new_context(base_url=server.wait_until_up(), viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        log_in(page, username="carol", password=PASSWORD)
        page.goto("/forecasting/models/")
        assert page.locator("#nab-card .headline strong").inner_text() == "63.20"
        assert page.locator("#m4-card .headline strong").inner_text() == "0.433"
        assert page.locator("#nab-card table.benchmark-table tbody tr").count() == 7  # 2 ours + 5 anchors
        blend = page.get_by_text(BLEND, exact=False).first
        assert not blend.is_visible()  # folded away
        page.locator("#m4-card details summary").click()
        assert blend.is_visible()
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        page.screenshot(path=str(artifact(f"model-card-{width}.png")), full_page=True)
        assert overflow <= 0
    finally:
        context.close()
