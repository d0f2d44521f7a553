"""Fan-out of live events inside one server process.

With one channel-layer channel per WebSocket, every event costs each client a Redis-backed
receive, a consumer dispatch and its own JSON encoding. Instead, each event loop has one `Hub`:
its single channel joins the team groups its clients need; every event it receives is encoded
once and queued per team. A flusher task then hands each team's queued events, as one `Batch`,
to every local member of the team: a member without filters sends the batch's frame, built once
for all of them (one JSON array when the client asked for batches). While the flusher works
through a burst, the receiver keeps queueing, so a burst reaches a client in a few frames.

Subscribers (`hive_ops.live.LiveConsumer`) provide `team_slugs`, `push(team_id, batch)` and
`flush()`; the hub never touches the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any, Protocol

import orjson

logger = logging.getLogger(__name__)

GROUP_REFRESH_S = 600  # channels-redis forgets group members after `group_expiry` (a day)
YIELD_EVERY = 64  # clients flushed between two chances for the receiver to run


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


class Batch:
    """Events of one team queued since the last flush: `(seq, text, event)` items, oldest first."""

    __slots__ = ("_frame", "items")

    def __init__(self, items: list[tuple[int | None, str, dict[str, Any]]]) -> None:
        self.items = items
        self._frame: str | None = None

    @property
    def frame(self) -> str:
        """All the items as one frame (a JSON array if more than one), built once for all clients."""
        if self._frame is None:
            texts = [text for _, text, _ in self.items]
            self._frame = texts[0] if len(texts) == 1 else "[" + ",".join(texts) + "]"
        return self._frame


class Subscriber(Protocol):
    team_slugs: dict[int, str]

    async def push(self, team_id: int, batch: Batch) -> None: ...

    async def flush(self) -> None: ...


class Hub:
    def __init__(self, layer) -> None:
        self.layer = layer
        self.channel: str | None = None
        self.members: dict[int, set[Subscriber]] = {}
        self.slugs: dict[int, str] = {}
        self.pending: dict[int, list[tuple[int | None, str, dict[str, Any]]]] = {}
        self.dirty: list[Subscriber] = []
        self.wake = asyncio.Event()
        self.lock = asyncio.Lock()
        self.tasks: list[asyncio.Task] = []

    async def join(self, subscriber: Subscriber) -> None:
        async with self.lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self.tasks = [
                    asyncio.ensure_future(self._receive(self.channel)),
                    asyncio.ensure_future(self._flush()),
                    asyncio.ensure_future(self._refresh_groups(self.channel)),
                ]
            for team_id, slug in subscriber.team_slugs.items():
                self.slugs[team_id] = slug
                members = self.members.setdefault(team_id, set())
                if not members:
                    await self.layer.group_add(team_group(team_id), self.channel)
                members.add(subscriber)

    async def leave(self, subscriber: Subscriber) -> None:
        async with self.lock:
            for team_id in subscriber.team_slugs:
                members = self.members.get(team_id)
                if members is None:
                    continue
                members.discard(subscriber)
                if not members:
                    del self.members[team_id]
                    with contextlib.suppress(Exception):
                        await self.layer.group_discard(team_group(team_id), self.channel)
            if not self.members and self.channel is not None:
                await self._stop()

    async def _stop(self) -> None:
        """No clients left: stop receiving (a receive must not outlive its event loop)."""
        tasks, self.tasks, self.channel = self.tasks, [], None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.dirty.clear()
        self.pending.clear()

    def mark_dirty(self, subscriber: Subscriber) -> None:
        """The subscriber has something of its own to send (events queued before it was ready)."""
        self.dirty.append(subscriber)
        self.wake.set()

    def deliver(self, message: dict[str, Any]) -> None:
        """Encode one event once and queue it for its team."""
        team_id = message.get("team")
        if team_id not in self.members:
            return
        event = message["event"]
        seq = event.get("seq")
        payload = {**event, "team": self.slugs[team_id]} if seq is not None else event
        self.pending.setdefault(team_id, []).append((seq, orjson.dumps(payload).decode(), event))
        self.wake.set()

    async def _receive(self, channel: str) -> None:
        while True:
            try:
                message = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("live hub: receive failed, retrying in 1 s", exc_info=True)
                await asyncio.sleep(1)
                continue
            if message.get("type") == "live.event":
                try:
                    self.deliver(message)
                except Exception:
                    logger.exception("live hub: bad event %r", message)

    async def _flush(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            dirty, self.dirty = self.dirty, []
            pending, self.pending = self.pending, {}
            work: list[tuple[Subscriber, int | None, Batch | None]] = [(s, None, None) for s in dirty]
            for team_id, items in pending.items():
                batch = Batch(items)
                work.extend((subscriber, team_id, batch) for subscriber in list(self.members.get(team_id, ())))
            for n, (subscriber, team_id, batch) in enumerate(work, 1):
                try:
                    await (subscriber.flush() if batch is None else subscriber.push(team_id, batch))
                except Exception:
                    logger.debug("live hub: send failed", exc_info=True)
                if n % YIELD_EVERY == 0:
                    await asyncio.sleep(0)

    async def _refresh_groups(self, channel: str) -> None:
        while True:
            await asyncio.sleep(GROUP_REFRESH_S)
            for team_id in list(self.members):
                with contextlib.suppress(Exception):
                    await self.layer.group_add(team_group(team_id), channel)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub_for(layer) -> Hub:
    """The hub of the running event loop (one per daphne process; tests run one loop per test)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None or hub.layer is not layer:
        hub = _hubs[loop] = Hub(layer)
    return hub
