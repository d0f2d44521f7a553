"""Two installations sharing a Redis server: Redis pub/sub ignores the database number, so only
the installation prefix (HIVEOPS_INSTALLATION) keeps their live events apart. The other
installations are real processes publishing through the real settings."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from core import fastredis, live_log, ratelimit
from core.live import LiveConsumer
from core.observability import heartbeats

ROOT = Path(__file__).resolve().parents[3]
OTHER_REDIS_DB = 11  # the other installation's database number (pub/sub only: no key is written)

PUBLISH = """
import json, django
django.setup()
from django.conf import settings
from core.live import publish
publish(int({team_id}), {{"type": "metric.tick", "at": {at}}})
print(json.dumps({{
    "installation": settings.HIVEOPS_INSTALLATION,
    "cache": settings.CACHES["default"]["KEY_PREFIX"],
    "layers": [layer["CONFIG"]["prefix"] for layer in settings.CHANNEL_LAYERS.values()],
    "celery": settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"],
}}))
"""


def publish_from_installation(*, team_id: int, at: float, installation: str | None, database: str) -> dict:
    """Publish a live event from another process: REDIS_URL on another database number."""
    env = {k: v for k, v in os.environ.items() if k != "HIVEOPS_INSTALLATION"}
    env |= {
        "DJANGO_SETTINGS_MODULE": "hive_ops.settings",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"postgres://hiveops@127.0.0.1:5432/{database}",  # named, never connected to
        "REDIS_URL": f"redis://127.0.0.1:6379/{OTHER_REDIS_DB}",
        "LOG_LEVEL": "WARNING",
    }
    if installation:
        env["HIVEOPS_INSTALLATION"] = installation
    code = PUBLISH.format(team_id=team_id, at=at)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def our_installation(settings) -> str:
    """A name of our own for this test, so nothing else on this Redis server uses it."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["live"]["CONFIG"]["prefix"] = f"{name}:live:ws:"
    settings.HIVEOPS_INSTALLATION = name
    settings.CHANNEL_LAYERS = layers
    return name


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_only_our_installations_events_reach_our_sockets(alice, team, our_installation):
    ws = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    ws.scope["user"] = alice
    assert (await ws.connect())[0]
    run = sync_to_async(publish_from_installation, thread_sensitive=False)
    other = await run(team_id=team.id, at=1.0, installation=None, database="hiveops_elsewhere")
    ours = await run(team_id=team.id, at=2.0, installation=our_installation, database="hiveops_elsewhere")
    # Same installation name on another database number: delivered (pub/sub ignores the number) ...
    assert json.loads(await ws.receive_from(timeout=5)) == {"type": "metric.tick", "at": 2.0}
    # ... while the other installation's event, published first, never arrived.
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()
    assert other == {
        "installation": "hiveops_elsewhere",  # default: the database name
        "cache": "hiveops_elsewhere",
        "layers": ["hiveops_elsewhere:ws", "hiveops_elsewhere:live:ws:"],
        "celery": "hiveops_elsewhere:",
    }
    assert ours["installation"] == our_installation


def test_hand_made_redis_keys_carry_the_installation(settings, team):
    settings.HIVEOPS_INSTALLATION = "inst-a"
    assert live_log.seq_key(team.id).startswith("inst-a:live:")
    assert live_log.log_key(team.id).startswith("inst-a:live:")
    assert fastredis.key("detect:dirty:1") == "inst-a:detect:dirty:1"
    assert all(key.startswith("inst-a:heartbeat:") for key in heartbeats.keys().values())
    settings.HIVEOPS_RATE_LIMITS = {"api": {"caller": 100, "team": 100}}
    ratelimit._broken_until = 0.0
    ratelimit.check(kind="api", caller="user:1", team_id=team.id)
    found = [k.decode() for k in fastredis.client().scan_iter("inst-a:rl:api:*")]
    assert len(found) == 2
    fastredis.client().delete(*found)


def test_an_installation_name_must_be_plain(tmp_path):
    env = {**os.environ, "HIVEOPS_INSTALLATION": "a b:c", "DJANGO_SETTINGS_MODULE": "hive_ops.settings"}
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode != 0
    assert "HIVEOPS_INSTALLATION" in done.stderr
