"""The numbers people read: the template filters every page uses (core/fmt.py) and the API
docs' grouping by area (core/schema_tags.py)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone

from core import fmt
from core.schema_tags import area_of
from core.teams.models import Profile


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.986202, "98.62%"), (-0.3798, "−37.98%"), (1, "100%"), (None, "–"), (float("nan"), "–"), ("", "–")],
)
def test_ratio_percent(value, expected):
    assert fmt.ratio_percent(value) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(5040, "1 h 24 min"), (151680, "1 d 18 h"), (45, "45 s"), (-2297, "−38 min"), (3600, "1 h"), (None, "–")],
)
def test_duration(seconds, expected):
    assert fmt.duration(seconds) == expected


def test_duration_of_a_timedelta_and_minutes():
    assert fmt.duration(timedelta(minutes=83)) == "1 h 23 min"
    assert fmt.minutes(28.98) == "29 min"


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [(63504000, "EUR", "€63,504,000.00"), (Decimal("-100"), "USD", "−$100.00"), ("12.5", "SEK", "SEK 12.50")],
)
def test_money(amount, currency, expected):
    assert fmt.money(amount, currency) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("FORECASTBREACH", "forecast breach"),
        ("SLOATRISK", "SLO at risk"),
        ("scaleup", "scale up"),
        ("level_shift", "level shift"),
    ],
)
def test_words(raw, expected):
    assert fmt.words(raw) == expected


def test_number_drops_a_useless_decimal():
    assert fmt.number(1.0) == "1"
    assert fmt.number(151680) == "151,680"


def test_when_is_in_the_active_time_zone_and_ago_is_relative():
    at = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
    with timezone.override(zoneinfo.ZoneInfo("Europe/Paris")):
        assert fmt.when(at) == "10 Mar 2026, 13:30"
    assert fmt.ago(at, now=at + timedelta(hours=3)) == "3 h ago"
    assert fmt.ago(at, now=at - timedelta(days=2, hours=1)) == "in 2 d"


def test_filters_are_builtins_and_breakable_escapes():
    html = Template("{{ v|ratio_percent }} {{ n|breakable }}").render(Context({"v": 0.5, "n": 'up{job="<x>",a="b"}'}))
    assert html == "50% up<wbr>{job=&quot;&lt;x&gt;&quot;,<wbr>a=&quot;b&quot;}"


@pytest.mark.parametrize(
    ("path", "area"),
    [
        ("/api/v1/ingest", "Metrics"),
        ("/api/v1/series/{uid}/forecast", "Forecasting and anomalies"),
        ("/api/v1/incidents/{uid}/acknowledge", "Incidents"),
        ("/api/v1/export/incidents.csv", "Incidents"),
        ("/api/v1/slas/{uid}", "SLOs and SLAs"),
        ("/api/v1/capacity/resources", "Capacity"),
    ],
)
def test_api_paths_are_grouped_by_area(path, area):
    assert area_of(path) == area


@pytest.mark.django_db
def test_pages_use_the_time_zone_of_the_readers_profile(alice, client):
    Profile.objects.create(user=alice, timezone="Europe/Paris")
    client.force_login(alice)
    assert 'data-tz="Europe/Paris"' in client.get("/slos/").content.decode()


@pytest.mark.django_db
def test_an_unknown_profile_time_zone_falls_back_to_utc(alice, client):
    Profile.objects.create(user=alice, timezone="Mars/Olympus")
    client.force_login(alice)
    assert 'data-tz="UTC"' in client.get("/slos/").content.decode()
