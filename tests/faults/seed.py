"""Data every fault test starts from, created once in the private template database: a team, a
member with a logged-in session (for WebSocket clients), an API token and a webhook integration.
Run inside a Django process on the private database (`tests.processes.run_django`)."""

from __future__ import annotations


def seed() -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from alerts.services.integrations import integration_create
    from core.teams.services import api_token_create, membership_ensure, team_get_or_create
    from metrics import storage

    with connection.cursor() as cursor:
        storage.layout_prepare(cursor, days_back=2, days_ahead=3)
    team = team_get_or_create(slug="ops", name="Ops")[0]
    user = get_user_model().objects.create_user("alice", password="pw-alice-1234")
    membership_ensure(team=team, user=user)
    client = Client()
    client.force_login(user)
    token = api_token_create(team=team, name="faults", scopes=["ingest", "read", "write"])[1]
    key = integration_create(team=team, kind="webhook", name="faults")[1]
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return {"team_id": team.id, "token": token, "webhook_key": key, "cookie": cookie}
