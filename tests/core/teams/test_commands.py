from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.teams.models import ApiToken, Team
from core.teams.selectors import api_token_authenticate
from core.teams.tokens import token_hash


def run(*args) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_team_and_prints_the_token_last(db):
    output = run("--team", "payments", "--name", "prometheus", "--scopes", "ingest,read,write")
    raw = output.split()[-1]
    assert raw.startswith("hvo_")
    token = ApiToken.objects.get()
    assert token.team == Team.objects.get(slug="payments")
    assert token.scopes == ["ingest", "read", "write"]
    assert token.token_hash == token_hash(raw)
    assert raw not in (token.token_hash, token.prefix)  # only the hash is stored
    assert api_token_authenticate(raw=raw) == token


def test_it_reuses_an_existing_team(db):
    run("--team", "payments", "--name", "a")
    run("--team", "payments", "--name", "b")
    assert Team.objects.count() == 1
    assert ApiToken.objects.count() == 2


def test_it_rejects_unknown_scopes(db):
    with pytest.raises(CommandError, match="unknown scope"):
        run("--team", "x", "--name", "a", "--scopes", "ingest,everything")
    assert ApiToken.objects.count() == 0
