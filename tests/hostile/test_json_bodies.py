"""Items 5 and 6: deeply nested JSON and lone surrogates are a 400 naming the problem, on every JSON
endpoint (DRF views, the plain ingest view, the unauthenticated intakes), and nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest
from rest_framework.test import APIClient

from tests.conftest import recent_points
from tests.hostile.conftest import deep_json, deep_object, post_raw, row_counts

# The ingest view writes from a worker thread with its own connection: data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)
ALL_SCOPES = ("ingest", "read", "write", "admin")
SURROGATE = '"\\ud800"'  # JSON text of a lone surrogate (valid JSON, not valid Unicode)


def _intakes(keys: dict[str, str]) -> list[tuple[str, str | None]]:
    return [
        ("/api/v1/integrations/pagerduty/enqueue", None),
        ("/api/v1/integrations/pagerduty/change/enqueue", None),
        ("/api/v1/integrations/alertmanager", keys["alertmanager"]),
        ("/api/v1/integrations/webhook", keys["webhook"]),
    ]


def _json_operations(client) -> list[str]:
    """Every path of the API schema whose POST takes a JSON body (no path parameters)."""
    schema = orjson.loads(client.get("/api/schema/", {"format": "json"}).content)
    return sorted(
        path
        for path, ops in schema["paths"].items()
        if "{" not in path
        and not path.startswith("/api/v1/integrations/")  # these take an integration key: below
        and "application/json" in ops.get("post", {}).get("requestBody", {}).get("content", {})
    )


@pytest.mark.parametrize("body", [deep_json(), deep_object(), deep_json(70)], ids=["arrays", "objects", "just-over"])
def test_deep_nesting_is_a_400_on_every_json_endpoint(token_client, keys, storage_clean, body):
    client = token_client(ALL_SCOPES)
    paths = _json_operations(client)
    assert "/api/v1/ingest" in paths
    assert "/api/v1/silences" in paths
    before = row_counts()
    answers = [(path, post_raw(client, path, body)) for path in paths]
    answers += [(path, post_raw(APIClient(), path, body, key)) for path, key in _intakes(keys)]
    for path, response in answers:
        assert response.status_code == 400, (path, response.status_code, response.content[:200])
        # 70 levels are within what ingest's parser reads (1024): its error is then about the shape.
        if len(body) > 1000 or path != "/api/v1/ingest":
            assert b"nested deeper than" in response.content, (path, response.content[:200])
    assert row_counts() == before


def test_moderate_nesting_in_a_free_form_field_is_still_accepted(keys, team):
    details = {"a": {"b": {"c": {"d": [1, [2, [3]]]}}}}
    body = {
        "routing_key": keys["pagerduty"],
        "event_action": "trigger",
        "payload": {"summary": "disk", "source": "db-1", "severity": "error", "custom_details": details},
    }
    assert APIClient().post("/api/v1/integrations/pagerduty/enqueue", body, format="json").status_code == 202


def test_a_lone_surrogate_in_an_ingest_label_value_is_a_400_naming_it(token_client, storage_clean):
    points = orjson.dumps(recent_points(2)).decode()
    body = f'{{"series": [{{"metric": "cpu", "labels": {{"host": {SURROGATE}}}, "points": {points}}}]}}'
    before = row_counts()
    response = post_raw(token_client(), "/api/v1/ingest", body.encode())
    assert response.status_code == 400
    assert response.json()["item"] == "series[0].labels.host"
    assert "surrogate" in response.json()["error"]
    assert row_counts() == before


@pytest.mark.parametrize(
    ("path", "template", "item"),
    [
        (
            "/api/v1/integrations/pagerduty/enqueue",
            '{"routing_key": "KEY", "event_action": "trigger", "payload": '
            '{"summary": S, "source": "db", "severity": "error"}}',
            "payload.summary",
        ),
        ("/api/v1/integrations/webhook", '{"summary": S, "severity": "high"}', "summary"),
        (
            "/api/v1/integrations/alertmanager",
            '{"version": "4", "status": "firing", "alerts": [{"status": "firing", "labels": {"alertname": S}}]}',
            "alerts[0].labels.alertname",
        ),
        (
            "/api/v1/integrations/pagerduty/change/enqueue",
            '{"routing_key": "KEY", "payload": {"summary": S, "timestamp": "2026-01-01T00:00:00Z"}}',
            "payload.summary",
        ),
    ],
)
def test_a_lone_surrogate_in_an_intake_summary_is_a_400_naming_it(keys, path, template, item):
    kind = path.split("/")[4]
    key = keys[kind]
    body = template.replace("KEY", key).replace("S", SURROGATE).encode()
    before = row_counts()
    response = post_raw(APIClient(), path, body, key)
    assert response.status_code == 400, response.content
    assert item.encode() in response.content
    assert b"surrogate" in response.content
    assert row_counts() == before


def test_a_lone_surrogate_in_an_api_body_is_a_400_naming_the_field(token_client, team):
    body = b'{"name": "x", "slug": "ok", "description": "\\udfff"}'
    response = post_raw(token_client(ALL_SCOPES), "/api/v1/services", body)
    assert response.status_code == 400
    assert "description" in response.json()["detail"]


def test_debug_is_off_unless_the_environment_turns_it_on():
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env["DJANGO_SETTINGS_MODULE"] = "hive_ops.settings"
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    on = subprocess.run(
        [sys.executable, "-c", code], env={**env, "DEBUG": "true"}, capture_output=True, text=True, check=True
    )
    assert (off.stdout.strip(), on.stdout.strip()) == ("False", "True")
