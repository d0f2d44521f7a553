"""The dashboard page, its exports and the JSON API: alice (owner) sees her team's figures, bob
(another team) and charlie (outsider) see none of them, anonymous callers are turned away, a bad
period gets a 400 naming it."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from rest_framework.test import APIClient

PAGES = ("/business/?period=7d", "/business/export.csv?period=7d", "/business/export.pdf?period=7d")


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_owner_sees_her_figures_and_the_formula(alice, world, frozen):
    response = login(alice).get("/business/?period=7d")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<div class="big poor" data-kpi="health.score">53</div>' in body
    assert '<div class="value" data-kpi="current.incidents">3</div>' in body
    assert '<div class="value" data-kpi="current.revenue_impact">9300.00</div>' in body
    assert '<div class="value" data-kpi="current.mtta_minutes">20.00</div>' in body
    assert "How the score is computed" in body
    assert "P1 1.0, P2 0.5, P3 0.25, P4 0.1, P5 0.0" in body  # the degradation weights
    assert "Checkout availability" in body
    assert "ACME" in body
    assert 'class="active">7d</a>' in body


def test_others_see_none_of_it(bob, charlie, world, frozen):
    for user in (bob, charlie):
        client = login(user)
        body = client.get("/business/?period=7d").content.decode()
        assert "Checkout availability" not in body
        assert "ACME" not in body
        assert '<div class="value" data-kpi="current.revenue_impact">9300.00</div>' not in body
        assert b"ACME" not in client.get("/business/export.csv?period=7d").content
    rows = list(csv.reader(io.StringIO(login(charlie).get("/business/export.csv?period=7d").content.decode())))
    assert ["kpi", "incidents", "0", "0", "0"] in rows
    rows = list(csv.reader(io.StringIO(login(bob).get("/business/export.csv?period=7d").content.decode())))
    assert ["kpi", "incidents_p1", "1", "0", "1"] in rows  # bob's own team's P1 only
    assert ["kpi", "revenue_impact_EUR", "3000000", "0", "3000000"] in rows  # 600 min × 5000/min × 1.0


def test_anonymous_callers_log_in(world):
    for url in PAGES:
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
    assert APIClient().get("/api/v1/bi/summary").status_code in (401, 403)


def test_a_bad_period_is_named(alice, token_client):
    for url in ("/business/?period=1y", "/business/export.csv?period=1y", "/business/export.pdf?period=1y"):
        response = login(alice).get(url)
        assert response.status_code == 400
        assert "period" in response.content.decode()
    response = token_client(scopes=["read"]).get("/api/v1/bi/summary?period=1y")
    assert response.status_code == 400
    assert response.json()["field"] == "period"
    assert "'1y'" in response.json()["error"]


def test_the_csv_export(alice, world, frozen):
    response = login(alice).get("/business/export.csv?period=7d")
    assert response["Content-Disposition"] == 'attachment; filename="executive-7d-2026-03-31.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "name", "current", "previous", "change"]
    assert ["kpi", "health_score", "53", "87", "-34"] in rows
    assert ["kpi", "incidents", "3", "1", "2"] in rows
    assert ["kpi", "mttr_minutes", "90", "120", "-30"] in rows
    assert ["kpi", "revenue_impact_EUR", "9300", "3000", "6300"] in rows
    assert ["sla_attainment_percent", "ACME / Checkout gold", "99.5", "", ""] in rows
    assert ["customer_affected", "ACME", "", "", ""] in rows


def test_the_csv_export_defuses_formulas_from_names(alice, world, frozen):
    from slo.models import SLA

    SLA.objects.filter(customer="ACME").update(customer="=cmd|' /C calc'!A0", name="@SUM(1)")
    response = login(alice).get("/business/export.csv?period=7d")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert ["sla_attainment_percent", "'=cmd|' /C calc'!A0 / @SUM(1)", "99.5", "", ""] in rows
    assert ["kpi", "health_score", "53", "87", "-34"] in rows  # negative numbers stay numbers


def test_the_pdf_export(alice, world, frozen):
    response = login(alice).get("/business/export.pdf?period=30d")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert len(response.content) > 3000


@pytest.mark.parametrize("period", ["7d", "30d", "90d", "quarter"])
def test_the_api_for_every_period(alice, world, frozen, period):
    client = APIClient()
    client.force_authenticate(alice)
    data = client.get(f"/api/v1/bi/summary?period={period}").json()
    assert data["period"]["name"] == period
    assert data["current"]["incidents"] >= 3
    assert data["slos"][0]["name"] == "Checkout availability"


def test_the_api_is_tenant_scoped(alice, bob, charlie, world, frozen, token_client, other_team):
    data = token_client(scopes=["read"]).get("/api/v1/bi/summary?period=7d").json()
    assert data["health"]["score"] == 53
    assert data["current"]["revenue_impact"] == 9300.0
    theirs = token_client(scopes=["read"], for_team=other_team).get("/api/v1/bi/summary?period=7d").json()
    assert theirs["current"]["incidents_by_priority"]["P1"] == 1
    assert theirs["current"]["incidents"] == 1
    assert theirs["slos"] == []
    for user, incidents in ((bob, 1), (charlie, 0)):
        client = APIClient()
        client.force_authenticate(user)
        data = client.get("/api/v1/bi/summary?period=7d").json()
        assert data["current"]["incidents"] == incidents
        assert data["slas"] == []
    assert token_client(scopes=["ingest"]).get("/api/v1/bi/summary").status_code == 403
