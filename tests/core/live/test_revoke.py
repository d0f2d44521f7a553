"""Live sockets lose access with their login: logout, removed membership, deactivated user,
expired session; over the real channels-redis layers and the real session store."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.test import Client

from core.live import LiveConsumer, live_layer, publish_async
from core.live_hub import hub_for
from core.teams.models import Membership
from core.teams.services import membership_ensure
from hive_ops.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def alert(uid: str) -> dict:
    return {"type": "alert.changed", "id": uid, "status": "firing", "severity": "critical"}


async def logged_in_client(user) -> Client:
    client = Client()
    await sync_to_async(client.force_login)(user)
    return client


async def connect_with_session(client: Client) -> WebsocketCommunicator:
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    ws = WebsocketCommunicator(
        application, "/ws/live/", headers=[(b"origin", b"http://localhost"), (b"cookie", cookie)]
    )
    connected, code = await ws.connect()
    assert connected, code
    return ws


async def closed_with(ws: WebsocketCommunicator) -> int:
    output = await ws.receive_output(timeout=3)
    assert output["type"] == "websocket.close", output
    return output["code"]


async def until(condition, timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def test_logging_out_closes_that_sessions_socket_and_keeps_the_others(alice, team):
    laptop, phone = await logged_in_client(alice), await logged_in_client(alice)
    laptop_ws, phone_ws = await connect_with_session(laptop), await connect_with_session(phone)
    await sync_to_async(laptop.logout)()
    assert await closed_with(laptop_ws) == 4401
    await publish_async(team.id, alert("after-logout"))
    assert json.loads(await phone_ws.receive_from(timeout=3))["id"] == "after-logout"
    await phone_ws.disconnect()


async def test_a_removed_membership_stops_that_teams_events(alice, team, other_team):
    await sync_to_async(membership_ensure)(team=other_team, user=alice)
    ws = await connect_with_session(await logged_in_client(alice))
    hub = hub_for(live_layer())
    await until(lambda: other_team.id in hub.members)
    await sync_to_async(Membership.objects.filter(team=other_team, user=alice).delete)()
    await until(lambda: other_team.id not in hub.members)
    await publish_async(other_team.id, alert("not-yours-any-more"))
    await publish_async(team.id, alert("still-yours"))
    assert json.loads(await ws.receive_from(timeout=3))["id"] == "still-yours"
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()


async def test_an_added_membership_brings_that_teams_events(alice, other_team):
    ws = await connect_with_session(await logged_in_client(alice))
    hub = hub_for(live_layer())
    await sync_to_async(membership_ensure)(team=other_team, user=alice)
    await until(lambda: other_team.id in hub.members)
    await publish_async(other_team.id, alert("new-team"))
    assert json.loads(await ws.receive_from(timeout=3))["id"] == "new-team"
    await ws.disconnect()


async def test_deactivating_the_user_closes_the_socket(alice, team):
    ws = await connect_with_session(await logged_in_client(alice))
    alice.is_active = False
    await sync_to_async(alice.save)()
    assert await closed_with(ws) == 4401


async def test_the_periodic_recheck_closes_a_socket_whose_session_is_gone(alice, team):
    ws = await connect_with_session(await logged_in_client(alice))
    await sync_to_async(Session.objects.all().delete)()  # no signal: as when a session expires
    await publish_async(team.id, alert("before-recheck"))
    assert json.loads(await ws.receive_from(timeout=3))["id"] == "before-recheck"
    await hub_for(live_layer()).recheck()
    assert await closed_with(ws) == 4401


async def test_the_periodic_recheck_runs_by_itself(alice, team, settings):
    settings.HIVEOPS_LIVE_RECHECK_S = 0.2
    ws = await connect_with_session(await logged_in_client(alice))
    await sync_to_async(Session.objects.all().delete)()
    assert await closed_with(ws) == 4401


async def test_a_socket_without_a_session_loses_a_removed_team(alice, team):
    ws = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    ws.scope["user"] = alice
    assert (await ws.connect())[0]
    await sync_to_async(Membership.objects.filter(user=alice).delete)()
    await until(lambda: team.id not in hub_for(live_layer()).members)
    await publish_async(team.id, alert("gone"))
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()
