"""The live WebSocket: anonymous users are refused, members get their team's events."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from core.live import LiveConsumer, publish_async
from hive_ops.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True)]


async def connect(user):
    communicator = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.mark.asyncio
async def test_anonymous_is_refused():
    _, connected, code = await connect(AnonymousUser())
    assert not connected
    assert code == 4401


@pytest.mark.asyncio
async def test_members_receive_their_team_events_only(alice, bob, team, other_team):
    alice_ws, connected, _ = await connect(alice)
    assert connected
    bob_ws, connected, _ = await connect(bob)
    assert connected
    await publish_async(team.id, {"type": "metric.tick", "at": 1.0})
    assert await alice_ws.receive_json_from(timeout=2) == {"type": "metric.tick", "at": 1.0}
    assert await bob_ws.receive_nothing(timeout=0.3)
    await alice_ws.disconnect()
    await bob_ws.disconnect()


def test_the_asgi_app_routes_websockets():
    assert "websocket" in application.application_mapping
