"""Rate limits: 429 with Retry-After past the per-token or per-team limit, on ingest and the API;
and they fail open when Redis does not answer."""

from __future__ import annotations

import time
import uuid

import pytest
from rest_framework.test import APIClient

from core import ratelimit
from tests.conftest import json_body, recent_points


@pytest.fixture(autouse=True)
def _fresh_window(monkeypatch):
    """Counters are keyed by token and team ids, which tests reuse: give each test its own keys."""
    prefix = uuid.uuid4().hex[:8]
    real_check = ratelimit.check
    monkeypatch.setattr(ratelimit, "_broken_until", 0.0)
    monkeypatch.setattr(
        ratelimit,
        "check",
        lambda *, kind, caller, team_id, now=None: real_check(
            kind=kind, caller=f"{prefix}:{caller}", team_id=f"{prefix}:{team_id}" if team_id else None, now=now
        ),
    )


def limits(settings, kind, caller, team):
    settings.HIVEOPS_RATE_LIMITS = {**settings.HIVEOPS_RATE_LIMITS, kind: {"caller": caller, "team": team}}


def ingest(client):
    return client.post(
        "/api/v1/ingest", json_body([{"metric": "m", "points": recent_points(1)}]), content_type="application/json"
    )


def test_ingest_gets_429_with_retry_after_past_the_token_limit(settings, transactional_db, team, token_client):
    limits(settings, "ingest", caller=3, team=100)
    client = token_client(("ingest",))
    assert [ingest(client).status_code for _ in range(3)] == [200, 200, 200]
    response = ingest(client)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "token" in response.json()["error"] or "caller" in response.json()["error"]
    assert ingest(token_client(("ingest",))).status_code == 200  # another token of the team still sends


def test_the_team_limit_covers_all_its_tokens(settings, transactional_db, team, token_client):
    limits(settings, "ingest", caller=100, team=2)
    assert ingest(token_client(("ingest",))).status_code == 200
    assert ingest(token_client(("ingest",))).status_code == 200
    response = ingest(token_client(("ingest",)))
    assert response.status_code == 429
    assert "team" in response.json()["error"]


def test_the_api_is_limited_per_caller(settings, alice, team):
    limits(settings, "api", caller=2, team=100)
    client = APIClient()
    client.force_login(alice)
    assert client.get("/api/v1/alerts").status_code == 200
    assert client.get("/api/v1/alerts").status_code == 200
    response = client.get("/api/v1/alerts")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


def test_limits_fail_open_without_redis(settings, transactional_db, team, token_client, monkeypatch):
    limits(settings, "ingest", caller=1, team=1)
    monkeypatch.setattr(
        ratelimit, "_client", __import__("redis").Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    )
    client = token_client(("ingest",))
    started = time.monotonic()
    assert [ingest(client).status_code for _ in range(3)] == [200, 200, 200]
    assert time.monotonic() - started < 5


def test_count_refuses_past_the_limit_until_the_window_ends():
    """The one count behind every limit: a counter's events within one minute, then the next minute anew."""
    counter = ratelimit.Counter("integration", f"test:{uuid.uuid4().hex}", 2)
    minute = 1_700_000_020.0  # 40 s into a window
    verdicts = [ratelimit.count([counter], now=minute) for _ in range(3)]
    assert [v.allowed for v in verdicts] == [True, True, False]
    assert (verdicts[2].which, verdicts[2].retry_after) == ("integration", 20)
    assert ratelimit.count([counter], now=minute + 20).allowed  # the next window


def test_count_says_nothing_was_counted_without_redis(monkeypatch):
    """Storm control falls back to its delivery log then; the others let the request through."""
    monkeypatch.setattr(
        ratelimit, "_client", __import__("redis").Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    )
    verdict = ratelimit.count([ratelimit.Counter("channel", f"test:{uuid.uuid4().hex}", 1)])
    assert (verdict.allowed, verdict.counted) == (True, False)
    assert ratelimit.count([ratelimit.Counter("channel", "unlimited", 0)]).counted  # no limit, nothing to count
