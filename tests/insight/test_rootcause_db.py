"""Goal 1 through the real selectors on stored samples: a few planted-cause incidents."""

from __future__ import annotations

from datetime import timedelta as td

import pytest

from insight import selectors
from insight.synthetic import make_case
from tests.alerts.factories import raise_alert
from tests.insight.helpers import store_case


@pytest.mark.parametrize("seed", [2000, 2001, 2002])
def test_the_planted_cause_ranks_first_from_stored_samples(team, storage_clean, seed):
    case = make_case(seed, unrelated=120, minutes=420)
    series, at = store_case(team, case, tag=f"s{seed}")
    result = selectors.rootcause(
        candidates=series, start=at - td(minutes=390), end=at + td(minutes=30), at=at, target=series[0], limit=5
    )
    assert result.source == "raw"
    assert result.candidates == len(series) - 1
    assert result.items[0]["series"] == str(series[1].uid)
    assert result.items[0]["lag_minutes"] in range(1, 6)
    assert result.items[0]["moved"].endswith("min before")


def test_related_for_an_incident_uses_the_alerts_series_and_start(team, storage_clean):
    case = make_case(2003, unrelated=60, minutes=420)
    series, at = store_case(team, case, tag="inc")
    alert = raise_alert(team, labels={"alertname": "CheckoutSlow"}, series_id=series[0].id, at=at)
    related = selectors.related_for_incident(incident=alert.incident, now=at + td(minutes=30))
    analysis = related["analysis"]
    assert analysis["target"]["series"] == str(series[0].uid)
    assert analysis["at"] == at
    assert analysis["items"][0]["series"] == str(series[1].uid)
    assert len(analysis["items"][0]["values"]) == len(analysis["target_values"])
