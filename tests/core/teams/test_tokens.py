from __future__ import annotations

from datetime import timedelta as td

from django.utils import timezone

from core.teams.models import ApiToken
from core.teams.selectors import api_token_authenticate
from core.teams.services import api_token_create, api_token_revoke


def test_expired_and_revoked_tokens_do_not_authenticate(team):
    _, expired = api_token_create(team=team, name="old", scopes=["read"], expires_at=timezone.now() - td(seconds=1))
    token, revoked = api_token_create(team=team, name="gone", scopes=["read"])
    api_token_revoke(token=token)
    assert api_token_authenticate(raw=expired) is None
    assert api_token_authenticate(raw=revoked) is None


def test_last_use_is_recorded_at_most_once_a_minute(team):
    token, raw = api_token_create(team=team, name="t", scopes=["read"])
    api_token_authenticate(raw=raw)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    api_token_authenticate(raw=raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first


def test_admin_scope_implies_the_others(team):
    token, _ = api_token_create(team=team, name="t", scopes=["admin"])
    assert token.has_scope("ingest")
    assert token.has_scope("write")


def test_admin_can_create_and_revoke_tokens(admin_client, team):
    response = admin_client.post(
        "/admin/teams/apitoken/add/", {"team": team.pk, "name": "from admin", "scopes": ["ingest"]}, follow=True
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(name="from admin")
    shown = [str(m) for m in response.context["messages"]]
    assert any("hvo_" in m for m in shown)  # the secret is shown once
    response = admin_client.post(
        "/admin/teams/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
