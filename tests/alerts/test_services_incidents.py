"""Incidents: grouping, priority, lifecycle, resolution notes, merge and split."""

from __future__ import annotations

import pytest

from alerts.models import GroupingRule, Incident
from alerts.services import alerts as alert_svc
from alerts.services import incidents as svc
from tests.alerts.factories import raise_alert, service


def test_alerts_of_one_service_share_an_incident(team):
    checkout = service(team, criticality=1)
    a = raise_alert(team, labels={"alertname": "CPU", "host": "a"}, service_id=checkout.id, severity="high")
    b = raise_alert(team, labels={"alertname": "Disk", "host": "b"}, service_id=checkout.id, severity="critical")
    assert a.incident_id == b.incident_id
    incident = Incident.objects.get()
    assert incident.priority == 1  # critical alert on a tier-1 service
    assert incident.title.startswith("Checkout: ")


def test_grouping_rules_group_by_labels(team):
    GroupingRule.objects.create(
        team=team, name="by cluster", group_by=["cluster"], matchers=[{"name": "alertname", "op": "=~", "value": ".+"}]
    )
    a = raise_alert(team, labels={"alertname": "X", "cluster": "eu"})
    b = raise_alert(team, labels={"alertname": "Y", "cluster": "eu"})
    c = raise_alert(team, labels={"alertname": "Z", "cluster": "us"})
    assert a.incident_id == b.incident_id != c.incident_id


@pytest.mark.parametrize(
    ("severity", "tier", "priority"),
    [("critical", 1, 1), ("critical", 4, 4), ("info", 1, 5), ("medium", 2, 4), ("high", None, 3)],
)
def test_priority_matrix(severity, tier, priority):
    assert svc.priority_for(severity, tier) == priority


def test_acknowledging_the_incident_acknowledges_its_alerts(team, alice):
    a = raise_alert(team, labels={"alertname": "A"}, service_id=service(team).id)
    raise_alert(team, labels={"alertname": "B"}, service_id=a.service_id)
    incident = svc.incident_acknowledge(incident=a.incident, by=alice)
    assert incident.status == "acknowledged"
    assert incident.time_to_acknowledge is not None
    assert set(incident.alerts.values_list("status", flat=True)) == {"acknowledged"}
    with pytest.raises(svc.IncidentError):
        svc.incident_acknowledge(incident=incident, by=alice)


def test_acknowledging_every_alert_acknowledges_the_incident(team, alice):
    a = raise_alert(team)
    alert_svc.alert_acknowledge(alert=a, by=alice)
    a.incident.refresh_from_db()
    assert a.incident.status == "acknowledged"


def test_the_incident_resolves_when_its_alerts_do(team):
    a = raise_alert(team)
    alert_svc.alert_resolve(alert=a, actor_name="rule")
    incident = Incident.objects.get()
    assert incident.status == "resolved"
    assert incident.time_to_resolve is not None
    assert list(incident.events.values_list("kind", flat=True)) == ["triggered", "alert_added", "resolved"]


def test_a_new_alert_soon_after_reopens_the_incident(team):
    a = raise_alert(team, labels={"alertname": "A", "host": "1"})
    alert_svc.alert_resolve(alert=a, actor_name="rule")
    raise_alert(team, labels={"alertname": "A", "host": "2"})
    incident = Incident.objects.get()
    assert incident.status == "triggered"
    assert "reopened" in incident.events.values_list("kind", flat=True)


def test_resolving_by_hand_resolves_alerts_and_can_require_a_note(team, alice):
    a = raise_alert(team)
    team.require_resolution_note = True
    team.save()
    with pytest.raises(svc.IncidentError) as info:
        svc.incident_resolve(incident=a.incident, by=alice)
    assert info.value.status == 400
    incident = svc.incident_resolve(incident=a.incident, by=alice, note="rolled back the deploy")
    a.refresh_from_db()
    assert (incident.status, incident.resolution_note, a.status) == ("resolved", "rolled back the deploy", "resolved")


def test_merge_and_split(team, alice):
    a = raise_alert(team, labels={"alertname": "A"})
    b = raise_alert(team, labels={"alertname": "B"})
    assert a.incident_id != b.incident_id
    merged = svc.incident_merge(target=a.incident, sources=[b.incident], by=alice)
    assert set(merged.alerts.values_list("pk", flat=True)) == {a.pk, b.pk}
    old = Incident.objects.get(pk=b.incident_id)
    assert old.status == "resolved"
    assert old.events.filter(kind="merged").exists()
    new = svc.incident_split(incident=merged, alerts=[b], by=alice)
    assert list(new.alerts.all()) == [b]
    with pytest.raises(svc.IncidentError):
        svc.incident_split(incident=new, alerts=[b], by=alice)  # would leave it empty


def test_update_records_changes(team, alice):
    a = raise_alert(team)
    incident = svc.incident_update(incident=a.incident, by=alice, priority_override=1, root_cause="bad config")
    assert incident.effective_priority == 1
    event = incident.events.get(kind="updated")
    assert event.data["changes"]["root_cause"] == ["", "bad config"]
