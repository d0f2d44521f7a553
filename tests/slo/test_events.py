"""After each evaluation the team's SLO statuses go out as one typed live event."""

from __future__ import annotations

from slo.services import slos_evaluate
from tests.slo.slo_factories import slo


def test_an_evaluation_publishes_the_team_slo_statuses(
    team, other_team, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr("slo.events.publish", lambda team_id, event: sent.append((team_id, event)))
    ours = slo(team)
    slo(other_team, name="theirs")
    with django_capture_on_commit_callbacks(execute=True):
        slos_evaluate()
    events = dict(sent)
    assert set(events) == {team.id, other_team.id}  # one event per team, each with its own SLOs only
    event = events[team.id]
    assert event["type"] == "slo.status"
    assert [s["id"] for s in event["slos"]] == [str(ours.uid)]
    assert set(event["slos"][0]) == {
        "id",
        "name",
        "attainment",
        "budget_remaining",
        "burn_1h",
        "exhausted",
        "exhaustion_at",
    }
