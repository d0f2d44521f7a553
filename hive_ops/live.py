"""The live WebSocket: session-authenticated, joined to one group per team of the user.

Services publish typed events to `team_group(team_id)` after their transaction commits; the
consumer forwards them unchanged as JSON.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


async def publish_async(team_id: int, event: dict[str, Any]) -> None:
    """Best effort: live updates must never break the write that caused them."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(team_group(team_id), {"type": "live.event", "event": event})
    except Exception:  # Redis down or slow: the page catches up on its next poll.
        logger.warning("live event for team %s not published", team_id, exc_info=True)


def publish(team_id: int, event: dict[str, Any]) -> None:
    async_to_sync(publish_async)(team_id, event)


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined = [team_group(t) for t in await self._team_ids(user)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def live_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])

    @database_sync_to_async
    def _team_ids(self, user) -> list[int]:
        from hive_ops.teams.selectors import team_ids_for_user

        return team_ids_for_user(user=user)
