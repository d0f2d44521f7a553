"""The audit log: configuration changes and state transitions, with actor, address and
before/after; append-only in the database; readable and exportable by team admins only."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from rest_framework.test import APIClient

from alerts.models import AlertRule
from core.audit.models import AuditEvent
from core.teams.models import Membership
from paging.models import NotificationChannel
from tests.alerts.factories import raise_alert

RULE = {
    "name": "Disk",
    "kind": "threshold",
    "metric": "disk",
    "critical_threshold": 90,
    "window": "00:05:00",
    "aggregation": "avg",
}


def login(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_configuration_changes_record_actor_address_and_before_after(alice, team):
    client = login(alice)
    uid = client.post("/api/v1/rules", RULE, format="json", REMOTE_ADDR="10.1.2.3").json()["id"]
    client.patch(f"/api/v1/rules/{uid}", {"critical_threshold": 95}, format="json", REMOTE_ADDR="10.1.2.3")
    rule = AlertRule.objects.get(uid=uid)
    client.delete(f"/api/v1/rules/{uid}")
    events = list(AuditEvent.objects.filter(object_type="alerts.alertrule").order_by("id"))
    assert [e.action for e in events] == ["create", "update", "delete"]
    created, updated, deleted = events
    assert created.actor_id == alice.id
    assert created.actor_name == "alice"
    assert created.source_ip == "10.1.2.3"
    assert created.via == "api"
    assert created.team_id == team.id
    assert created.object_id == str(rule.pk)
    assert created.after["critical_threshold"] == 90
    assert updated.before == {"critical_threshold": 90.0}
    assert updated.after == {"critical_threshold": 95.0}
    assert deleted.before["name"] == "Disk"


def test_token_writes_name_the_token(team, token_client):
    token_client(("read", "write")).post("/api/v1/rules", RULE, format="json")
    event = AuditEvent.objects.get(object_type="alerts.alertrule")
    assert event.actor_name == "token test"
    assert event.actor_id is None


def test_state_transitions_are_recorded(alice, team):
    alert = raise_alert(team)
    client = login(alice)
    client.post(f"/api/v1/alerts/{alert.uid}/acknowledge")
    client.post(f"/api/v1/incidents/{alert.incident.uid}/resolve", {"note": "fixed"}, format="json")
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "actor_name"))
    assert "alert.firing" in [action for action, _ in actions]
    assert ("alert.acknowledged", "alice") in actions
    assert ("incident.resolved", "alice") in actions


def test_secrets_never_reach_the_log(team):
    NotificationChannel.objects.create(
        team=team, kind="slack", name="ops", config={"url": "https://hooks.slack.com/services/T/B/secret"}
    )
    event = AuditEvent.objects.get(object_type="paging.notificationchannel")
    assert event.after["config"] == {"url": "[redacted]"}
    assert "hooks.slack.com" not in str(event.after)


def test_the_log_is_append_only(alice, team):
    login(alice).post("/api/v1/rules", RULE, format="json")
    event = AuditEvent.objects.get(object_type="alerts.alertrule")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor_name="someone else")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).actor_name == "alice"


def test_team_admins_read_and_export_it_others_do_not(alice, bob, charlie, team, django_user_model):
    login(alice).post("/api/v1/rules", RULE, format="json")
    rows = login(alice).get("/api/v1/audit?object_type=alerts.alertrule").json()
    assert [r["action"] for r in rows] == ["create"]
    export = login(alice).get("/api/v1/audit?export=csv")
    table = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert table[0][:3] == ["at", "team_id", "actor_name"]
    assert any(r[6] == "create" and r[7] == "alerts.alertrule" for r in table[1:])
    theirs = login(bob).get("/api/v1/audit").json()  # admin of another team: only their own rows
    assert {r["team_id"] for r in theirs} == {bob.memberships.get().team_id}
    assert login(charlie).get("/api/v1/audit").status_code == 403
    responder = django_user_model.objects.create_user("responder")
    Membership.objects.create(team=team, user=responder, role="responder")
    assert login(responder).get("/api/v1/audit").status_code == 403
    assert login(alice).get("/api/v1/audit?export=xml").status_code == 400


def test_the_csv_export_defuses_formulas(alice, team):
    login(alice).post("/api/v1/rules", {**RULE, "name": '=HYPERLINK("http://evil.example","x")'}, format="json")
    export = login(alice).get("/api/v1/audit?export=csv&object_type=alerts.alertrule")
    table = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    (row,) = table[1:]
    assert row[9] == '\'=HYPERLINK("http://evil.example","x")'  # object_repr, not run by a spreadsheet
    assert row[10] == ""  # before: nothing
    assert row[11].startswith("{")  # after: JSON as before


def test_admin_can_look_but_not_touch(alice, team, django_user_model):
    login(alice).post("/api/v1/rules", RULE, format="json")
    event = AuditEvent.objects.first()
    boss = django_user_model.objects.create_superuser("boss", password="pw-boss-1234")
    client = Client()
    client.force_login(boss)
    assert client.get("/admin/audit/auditevent/").status_code == 200
    assert client.get(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    response = client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"actor_name": "x"})
    assert response.status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).actor_name == "alice"
