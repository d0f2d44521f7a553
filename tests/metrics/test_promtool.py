"""Debian's `promtool query instant|range|series|labels` (Prometheus 2.42) against
/prometheus: a real Prometheus API client, credentials in the URL (Go sends them as HTTP Basic,
the token as the password), answers exactly the values ingested."""

from __future__ import annotations

import json
import shutil
import subprocess
from urllib.parse import urlsplit

import orjson
import pytest
from django.db import connection

from metrics.ingest import parse_json
from metrics.services import samples_ingest

PROMTOOL = shutil.which("promtool")
pytestmark = [
    pytest.mark.skipif(PROMTOOL is None, reason="promtool missing (apt-get install prometheus)"),
    pytest.mark.django_db(transaction=True),
]
T0 = 1_790_000_000 // 60 * 60
VALUES = [0.5, 1.25, 3.0, 2.75, 1e-3, 12345.678, 7.0]


@pytest.fixture
def server(live_server, team, make_token):
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE metrics_sample, metrics_rollup_1m, metrics_rollup_1h, metrics_rollup_dirty")
    body = {
        "series": [
            {
                "metric": "queue_depth",
                "labels": {"queue": "mail", "region": "eu"},
                "points": [[T0 + 60 * i, v] for i, v in enumerate(VALUES)],
            },
            {"metric": "queue_depth", "labels": {"queue": "sms", "region": "us"}, "points": [[T0 + 360, 42.0]]},
        ]
    }
    samples_ingest(team_id=team.id, batch=parse_json(orjson.dumps(body), max_points=100))
    token = make_token(team, ("read",))
    parts = urlsplit(live_server.url)
    return f"http://grafana:{token}@{parts.netloc}/prometheus"


def promtool(*args: str) -> str:
    done = subprocess.run([PROMTOOL, "query", *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_instant_query(server):
    out = json.loads(promtool("instant", "-o", "json", f"--time={T0 + 360}", server, 'queue_depth{queue=~"m.*"}'))
    assert out == [{"metric": {"__name__": "queue_depth", "queue": "mail", "region": "eu"}, "value": [T0 + 360, "7"]}]


def test_range_query_returns_every_value(server):
    out = json.loads(
        promtool(
            "range",
            "-o",
            "json",
            f"--start={T0}",
            f"--end={T0 + 360}",
            "--step=1m",
            server,
            'queue_depth{queue="mail"}',
        )
    )
    [series] = out
    assert [float(v) for _, v in series["values"]] == VALUES
    assert [t for t, _ in series["values"]] == [T0 + 60 * i for i in range(len(VALUES))]


def test_series_and_labels(server):
    out = promtool("series", "--match=queue_depth", server)
    assert 'queue="mail"' in out
    assert 'queue="sms"' in out
    assert promtool("labels", server, "region").split() == ["eu", "us"]


def test_a_wrong_token_is_refused(server):
    bad = server.replace("grafana:", "grafana:x", 1)
    done = subprocess.run(
        [PROMTOOL, "query", "instant", bad, "queue_depth"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0
    assert "401" in done.stderr or "unauthorized" in done.stderr.lower()
