"""The admin as a team lead uses it, in a real browser: Chromium against daphne.

A staff user who is not a superuser and leads one team adds a rule, a channel, an SLO, an SLA,
an on-call rotation, an escalation policy with a level and a capacity resource through the admin
add forms, with the structured widgets (checkboxes, the editable table, the per-kind settings and
the autocompletes), and each is saved. Bad values come back with a message in words; another
team's service never appears in an autocomplete. Screenshots land in `.artifacts/`.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission

from alerts.models import AlertRule
from capacity.models import Resource
from catalog.models import Service
from core.teams.services import membership_ensure, team_get_or_create
from metrics.models import Series
from paging.models import EscalationLevel, EscalationPolicy, NotificationChannel, OnCallRotation, RotationMember
from slo.models import SLA, SLO
from tests.browser import artifact, chromium, daphne_server, log_in, requires_chromium

expect = pytest.importorskip("playwright.sync_api", reason="browser test: playwright is not installed").expect

pytestmark = [requires_chromium, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
ADD_PAGES = {
    "rule": "/admin/alerts/alertrule/add/",
    "channel": "/admin/paging/notificationchannel/add/",
    "slo": "/admin/slo/slo/add/",
    "sla": "/admin/slo/sla/add/",
    "rotation": "/admin/paging/oncallrotation/add/",
    "policy": "/admin/paging/escalationpolicy/add/",
    "resource": "/admin/capacity/resource/add/",
}
OVERFLOW_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    with daphne_server(log_path=tmp_path_factory.mktemp("daphne") / "daphne.log") as running:
        yield running


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as running:
        yield running


@pytest.fixture
def lead(transactional_db):
    """A team lead: staff, every model permission, manager of one team; another team exists."""
    team, _ = team_get_or_create(slug="browser-admin", name="Payments")
    others, _ = team_get_or_create(slug="browser-admin-others", name="Others")
    user = get_user_model().objects.create(username="lead", password=make_password(PASSWORD), is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    membership_ensure(team=team, user=user, role="manager")
    ana = get_user_model().objects.create(username="ana", email="ana@example.com")
    membership_ensure(team=team, user=ana, role="responder")
    Service.objects.create(team=team, name="Checkout", slug="checkout")
    Service.objects.create(team=others, name="Checkout elsewhere", slug="checkout-elsewhere")
    Series.objects.create(team=team, metric="cpu_utilisation", labels={"service": "checkout"})
    return user, team


@pytest.fixture
def page(server, browser, lead):
    context = browser.new_context(base_url=server.wait_until_up(), viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.js_errors = errors
    log_in(page, username="lead", password=PASSWORD)
    yield page
    context.close()


def autocomplete(page, select_id: str, typed: str, choose: str) -> list[str]:
    """Open the autocomplete of `select_id`, type, pick `choose`; returns the offered texts."""
    page.locator(f"#{select_id} + .select2 .select2-selection").click()
    page.keyboard.type(typed)
    option = page.locator(".select2-results__option", has_text=choose).first
    expect(option).to_be_visible()
    offered = page.locator(".select2-results__option").all_inner_texts()
    option.click()
    return offered


def save(page, name: str) -> None:
    page.screenshot(path=artifact(f"admin-{name}-filled.png"), full_page=True)
    page.locator("input[name=_save]").click()


def assert_saved(page, name: str) -> None:
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    page.screenshot(path=artifact(f"admin-{name}-saved.png"), full_page=True)


def add_rule(page, team) -> None:
    page.goto(ADD_PAGES["rule"])
    expect(page.locator("#id_kind")).to_have_value("threshold")
    expect(page.locator("#id_team")).to_have_value(str(team.pk))  # the only team, preselected
    expect(page.get_by_label("Points in a row")).to_be_hidden()
    page.locator("#id_name").fill("Checkout CPU high")
    page.locator("#id_metric").fill("cpu_utilisation")
    offered = autocomplete(page, "id_service", "check", "Checkout")
    assert not any("elsewhere" in text for text in offered), offered  # another team's service
    page.locator("#id_critical_threshold").fill("90")
    page.get_by_role("button", name="Add a row").click()  # labels table
    page.get_by_label("Row 1: Label name").fill("tier")
    page.get_by_label("Row 1: Value").fill("gold")
    page.locator("#id_kind").select_option("anomaly")
    expect(page.get_by_label("Points in a row")).to_be_visible()
    expect(page.get_by_label("Look ahead (minutes)")).to_be_hidden()
    page.get_by_label("Points in a row").fill("99")
    save(page, "rule")
    expect(page.locator(".field-params__points .errorlist")).to_contain_text("less than or equal to 30")
    page.screenshot(path=artifact("admin-rule-error.png"), full_page=True)
    page.get_by_label("Points in a row").fill("3")
    page.locator("input[name=_save]").click()
    assert_saved(page, "rule")


def add_channel(page) -> None:
    page.goto(ADD_PAGES["channel"])
    page.locator("#id_name").fill("On-call mail")
    page.locator("#id_kind").select_option("email")
    expect(page.get_by_label("Webhook URL")).to_be_hidden()
    page.get_by_label("Recipients").fill("oncall@example.com, not-an-address")
    save(page, "channel")
    expect(page.locator(".field-config__to .errorlist")).to_contain_text("“not-an-address” is not an e-mail address.")
    page.screenshot(path=artifact("admin-channel-error.png"), full_page=True)
    expect(page.locator("body")).not_to_contain_text("Failing since")  # state, not a setting
    page.get_by_label("Recipients").fill("oncall@example.com, lead@example.com")
    page.locator("input[name=_save]").click()
    assert_saved(page, "channel")


def add_slo(page) -> None:
    page.goto(ADD_PAGES["slo"])
    page.locator("#id_name").fill("Checkout availability")
    autocomplete(page, "id_service", "check", "Checkout")
    page.locator("#id_sli_kind").select_option("ratio")
    page.locator("#id_total_metric").fill("http_requests_total")
    page.locator("#id_bad_metric").fill("http_requests_total")
    page.locator("#id_bad_matchers").fill('code=~"5.."')
    page.locator("#id_objective").fill("99.9")
    save(page, "slo")
    assert_saved(page, "slo")


def add_sla(page) -> None:
    page.goto(ADD_PAGES["sla"])
    autocomplete(page, "id_slo", "avail", "Checkout availability")
    page.locator("#id_name").fill("Acme gold")
    page.locator("#id_customer").fill("Acme")
    page.locator("#id_target").fill("99.5")
    page.locator("#id_monthly_fee").fill("12000")
    page.get_by_label("Row 1: Attainment below (%)").fill("150")
    page.get_by_label("Row 1: Credit (% of the fee)").fill("10")
    save(page, "sla")
    expect(page.locator(".field-credit_tiers .errorlist")).to_contain_text(
        "Row 1: “Attainment below (%)” must be from 0 to 100."
    )
    page.screenshot(path=artifact("admin-sla-error.png"), full_page=True)
    page.get_by_label("Row 1: Attainment below (%)").fill("99.5")
    page.get_by_role("button", name="Add a row").click()
    page.get_by_label("Row 2: Attainment below (%)").fill("99")
    page.get_by_label("Row 2: Credit (% of the fee)").fill("25")
    page.locator("input[name=_save]").click()
    assert_saved(page, "sla")


def add_rotation(page) -> None:
    page.goto(ADD_PAGES["rotation"])
    page.locator("#id_name").fill("Payments primary")
    page.locator("#id_timezone").fill("Europe/Berlin")
    for row, name in enumerate(["lead", "ana"]):
        page.locator("#members-group .add-row a").click()
        autocomplete(page, f"id_members-{row}-user", name, name)
        page.locator(f"#id_members-{row}-position").fill(str(row))
    save(page, "rotation")
    assert_saved(page, "rotation")


def add_policy(page) -> None:
    page.goto(ADD_PAGES["policy"])
    page.locator("#id_name").fill("Payments escalation")
    page.locator("#levels-group .add-row a").click()
    autocomplete(page, "id_levels-0-users", "lea", "lead")
    autocomplete(page, "id_levels-0-rotation", "pay", "Payments primary")
    autocomplete(page, "id_levels-0-channels", "on", "On-call mail")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        page.locator("#levels-0").get_by_label(day).check()
    save(page, "policy")
    assert_saved(page, "policy")
    expect(page.locator(".messagelist .warning")).to_contain_text("never pages anyone")
    expect(page.locator("#result_list")).to_contain_text("no route")


def add_resource(page) -> None:
    page.goto(ADD_PAGES["resource"])
    page.locator("#id_name").fill("Checkout CPU")
    autocomplete(page, "id_service", "checkout", "Checkout")
    autocomplete(page, "id_series", "cpu", "cpu_utilisation")
    page.locator("#id_allocation").fill("6")
    save(page, "resource")
    assert_saved(page, "resource")


def test_a_team_lead_adds_everything_through_the_admin_widgets(page, lead):
    user, team = lead
    add_rule(page, team)
    add_channel(page)
    add_slo(page)
    add_sla(page)
    add_rotation(page)
    add_policy(page)
    add_resource(page)
    assert not page.js_errors, page.js_errors

    rule = AlertRule.objects.get(team=team, name="Checkout CPU high")
    assert (rule.kind, rule.params, rule.labels) == ("anomaly", {"points": 3}, {"tier": "gold"})
    assert rule.service.slug == "checkout"
    channel = NotificationChannel.objects.get(team=team)
    assert channel.config == {"to": ["oncall@example.com", "lead@example.com"]}
    assert SLO.objects.get(team=team).bad_matchers == [{"name": "code", "op": "=~", "value": "5.."}]
    sla = SLA.objects.get(team=team)
    assert sla.credit_tiers == [{"below": 99.5, "credit_percent": 10}, {"below": 99, "credit_percent": 25}]
    rotation = OnCallRotation.objects.get(team=team)
    assert list(RotationMember.objects.filter(rotation=rotation).values_list("user__username", flat=True)) == [
        "lead",
        "ana",
    ]
    level = EscalationLevel.objects.get(policy=EscalationPolicy.objects.get(team=team))
    assert level.only_days == [0, 1, 2, 3, 4]
    assert (list(level.users.all()), list(level.channels.all()), level.rotation) == ([user], [channel], rotation)
    resource = Resource.objects.get(team=team)
    assert (resource.service.slug, resource.series.metric) == ("checkout", "cpu_utilisation")


def test_the_add_forms_fit_a_phone(server, browser, lead):
    context = browser.new_context(base_url=server.wait_until_up(), viewport=PHONE)
    page = context.new_page()
    try:
        log_in(page, username="lead", password=PASSWORD)
        for name, url in ADD_PAGES.items():
            page.goto(url)
            expect(page.locator("#site-name")).to_contain_text("HiveOps")
            expect(page.get_by_role("link", name="Back to the app")).to_be_visible()
            page.screenshot(path=artifact(f"admin-{name}-add-390.png"), full_page=True)
            assert page.evaluate(OVERFLOW_JS) <= 1, f"{name}: the page is wider than the phone"
        assert re.search(r"HiveOps admin", page.title())
    finally:
        context.close()
