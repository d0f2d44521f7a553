"""The live WebSocket over the real channels-redis layer: auth, team scoping, filters, catch-up."""

from __future__ import annotations

import json

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from core import live_log
from core.live import LiveConsumer, live_layer, publish, publish_async
from core.live_hub import team_group
from core.teams.services import membership_ensure
from hive_ops.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def alert(uid: str, severity: str = "critical", service: str | None = "checkout") -> dict:
    return {"type": "alert.changed", "id": uid, "status": "firing", "severity": severity, "service": service}


async def connect(user, query: str = "") -> WebsocketCommunicator:
    ws = WebsocketCommunicator(LiveConsumer.as_asgi(), f"/ws/live/?{query}")
    ws.scope["user"] = user
    connected, code = await ws.connect()
    assert connected, code
    return ws


async def receive(ws: WebsocketCommunicator):
    return json.loads(await ws.receive_from(timeout=3))


async def test_anonymous_is_refused():
    ws = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    ws.scope["user"] = AnonymousUser()
    assert await ws.connect() == (False, 4401)


async def test_the_asgi_app_refuses_a_request_without_a_session():
    ws = WebsocketCommunicator(application, "/ws/live/", headers=[(b"origin", b"http://localhost")])
    assert await ws.connect() == (False, 4401)


async def test_the_asgi_app_accepts_a_logged_in_session(alice, team):
    client = Client()
    await sync_to_async(client.force_login)(alice)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    ws = WebsocketCommunicator(
        application, "/ws/live/", headers=[(b"origin", b"http://localhost"), (b"cookie", cookie)]
    )
    connected, _ = await ws.connect()
    assert connected
    await publish_async(team.id, alert("a1"))
    assert (await receive(ws))["id"] == "a1"
    await ws.disconnect()


async def test_members_get_only_their_teams_events(alice, bob, team, other_team):
    alice_ws, bob_ws = await connect(alice), await connect(bob)
    await publish_async(team.id, alert("a1"))
    event = await receive(alice_ws)
    assert event["id"] == "a1"
    assert event["team"] == "ops"
    assert isinstance(event["seq"], int)
    assert await bob_ws.receive_nothing(timeout=0.3)
    await publish_async(other_team.id, alert("b1"))
    assert (await receive(bob_ws))["team"] == "other"
    assert await alice_ws.receive_nothing(timeout=0.3)
    await alice_ws.disconnect()
    await bob_ws.disconnect()


async def test_a_member_of_two_teams_gets_both(alice, team, other_team):
    await sync_to_async(membership_ensure)(team=other_team, user=alice)
    ws = await connect(alice, "since=")
    assert (await receive(ws))["cursor"] == {"ops": 0, "other": 0}
    await publish_async(other_team.id, alert("b1"))
    await publish_async(team.id, alert("a1"))
    assert [(e["team"], e["id"]) for e in [await receive(ws), await receive(ws)]] == [("other", "b1"), ("ops", "a1")]
    await ws.disconnect()


async def test_metric_ticks_are_not_numbered(alice, team):
    ws = await connect(alice)
    await publish_async(team.id, {"type": "metric.tick", "at": 1.0})
    assert await receive(ws) == {"type": "metric.tick", "at": 1.0}
    assert live_log.client().get(live_log.seq_key(team.id)) is None
    await ws.disconnect()


async def test_query_filters_drop_other_severities_and_services(alice, team):
    ws = await connect(alice, "severity=critical&service=checkout,api")
    await publish_async(team.id, alert("warn", severity="warning"))
    await publish_async(team.id, alert("elsewhere", service="search"))
    await publish_async(team.id, alert("no-service", service=None))
    await publish_async(team.id, {"type": "incident.changed", "id": "i1", "status": "open"})
    await publish_async(team.id, alert("wanted", service="api"))
    assert [(await receive(ws))["id"] for _ in range(2)] == ["i1", "wanted"]
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()


async def test_a_filter_message_replaces_the_filters(alice, team):
    ws = await connect(alice, "severity=critical")
    await ws.send_to(text_data=json.dumps({"type": "filter", "service": ["api"]}))
    assert await receive(ws) == {"type": "filter.applied", "severity": [], "service": ["api"]}
    await publish_async(team.id, alert("checkout-critical"))
    await publish_async(team.id, alert("api-warning", severity="warning", service="api"))
    assert (await receive(ws))["id"] == "api-warning"
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        '{"type": "subscribe"}',
        '{"type": "filter", "severity": "critical"}',
        '{"type": "filter", "service": [1]}',
    ],
)
async def test_a_bad_message_gets_an_error_and_keeps_the_filters(alice, team, message):
    ws = await connect(alice, "severity=critical")
    await ws.send_to(text_data=message)
    assert (await receive(ws))["type"] == "error"
    await publish_async(team.id, alert("warn", severity="warning"))
    await publish_async(team.id, alert("crit"))
    assert (await receive(ws))["id"] == "crit"
    await ws.disconnect()


async def test_reconnecting_replays_missed_events_in_order(alice, team):
    ws = await connect(alice, "since=")
    assert await receive(ws) == {"type": "ready", "cursor": {"ops": 0}}
    await publish_async(team.id, alert("a1"))
    seen = await receive(ws)
    await ws.disconnect()

    for uid in ("a2", "a3", "a4"):
        await publish_async(team.id, alert(uid))

    ws = await connect(alice, f"since=ops:{seen['seq']}")
    replayed = [await receive(ws) for _ in range(3)]
    assert [e["id"] for e in replayed] == ["a2", "a3", "a4"]
    assert [e["seq"] for e in replayed] == [seen["seq"] + 1, seen["seq"] + 2, seen["seq"] + 3]
    assert {e["team"] for e in replayed} == {"ops"}
    assert await receive(ws) == {"type": "ready", "cursor": {"ops": seen["seq"] + 3}}
    await publish_async(team.id, alert("a5"))
    assert (await receive(ws))["id"] == "a5"
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()


async def test_catch_up_applies_the_filters(alice, team):
    since = await sync_to_async(live_log.append)(team.id, alert("a0"))
    await publish_async(team.id, alert("warn", severity="warning"))
    await publish_async(team.id, alert("crit"))
    ws = await connect(alice, f"since=ops:{since}&severity=critical")
    assert (await receive(ws))["id"] == "crit"
    assert (await receive(ws))["type"] == "ready"
    await ws.disconnect()


async def test_catch_up_comes_as_one_frame_in_batch_mode(alice, team):
    since = await sync_to_async(live_log.append)(team.id, alert("a0"))
    for uid in ("a1", "a2"):
        await publish_async(team.id, alert(uid))
    ws = await connect(alice, f"since=ops:{since}&batch=1")
    frame = await receive(ws)
    assert [e.get("id", e["type"]) for e in frame] == ["a1", "a2", "ready"]
    await ws.disconnect()


async def test_an_event_both_replayed_and_delivered_live_arrives_once(alice, team):
    since = await sync_to_async(live_log.append)(team.id, alert("a0"))
    # Logged, but its group message is still on the way when the client reconnects.
    late = {**alert("a1"), "seq": await sync_to_async(live_log.append)(team.id, alert("a1"))}
    ws = await connect(alice, f"since=ops:{since}")
    assert (await receive(ws))["id"] == "a1"
    assert (await receive(ws))["type"] == "ready"
    await live_layer().group_send(team_group(team.id), {"type": "live.event", "team": team.id, "event": late})
    await publish_async(team.id, alert("a2"))
    assert (await receive(ws))["id"] == "a2"
    await ws.disconnect()


async def test_resync_when_the_log_expired(alice, team):
    await publish_async(team.id, alert("a1"))
    seen = int(live_log.client().get(live_log.seq_key(team.id)))
    await publish_async(team.id, alert("a2"))
    live_log.client().delete(live_log.log_key(team.id))
    ws = await connect(alice, f"since=ops:{seen}")
    assert await receive(ws) == {"type": "resync", "team": "ops"}
    assert await receive(ws) == {"type": "ready", "cursor": {"ops": seen + 1}}
    await ws.disconnect()


async def test_resync_when_the_events_were_trimmed(alice, team, settings):
    settings.HIVEOPS_LIVE_LOG_SIZE = 2
    await publish_async(team.id, alert("a1"))
    seen = int(live_log.client().get(live_log.seq_key(team.id)))
    for uid in ("a2", "a3", "a4"):
        await publish_async(team.id, alert(uid))
    ws = await connect(alice, f"since=ops:{seen}")
    assert (await receive(ws))["type"] == "resync"
    await ws.disconnect()


async def test_resync_after_redis_lost_everything(alice, team):
    await publish_async(team.id, alert("a1"))
    seen = int(live_log.client().get(live_log.seq_key(team.id)))
    live_log.client().delete(live_log.seq_key(team.id), live_log.log_key(team.id))
    ws = await connect(alice, f"since=ops:{seen}")
    assert await receive(ws) == {"type": "resync", "team": "ops"}
    assert await receive(ws) == {"type": "ready", "cursor": {"ops": 0}}
    await ws.disconnect()


async def test_a_client_that_missed_nothing_gets_just_ready(alice, team):
    await publish_async(team.id, alert("a1"))
    seen = int(live_log.client().get(live_log.seq_key(team.id)))
    live_log.client().delete(live_log.log_key(team.id))  # a quiet hour: the log expired
    ws = await connect(alice, f"since=ops:{seen}")
    assert await receive(ws) == {"type": "ready", "cursor": {"ops": seen}}
    await ws.disconnect()


async def test_publish_survives_redis_being_down(team, settings, monkeypatch, caplog):
    monkeypatch.setattr(live_log, "_client", redis.Redis(port=1, socket_connect_timeout=0.5))
    down = {"hosts": ["redis://127.0.0.1:1/0"]}
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": down},
        "live": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": down},
    }
    await sync_to_async(publish)(team.id, alert("a1"))
    await publish_async(team.id, alert("a2"))
    assert "not logged" in caplog.text
    assert "not published" in caplog.text
