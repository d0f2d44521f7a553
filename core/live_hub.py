"""Fan-out of live events inside one server process.

With one channel-layer channel per WebSocket, every event costs each client a Redis-backed
receive, a consumer dispatch and its own JSON encoding. Instead, each event loop has one `Hub`:
its single channel joins the team groups its clients need; every event it receives is encoded
once and queued per team. A flusher task then hands each team's queued events, as one `Batch`,
to every local member of the team: a member without filters sends the batch's frame, built once
for all of them (one JSON array when the client asked for batches). While the flusher works
through a burst, the receiver keeps queueing, so a burst reaches a client in a few frames.

Subscribers (`core.live.LiveConsumer`) provide `team_slugs`, `user_id`, `push(team_id, batch)`
and `flush()`; the hub never touches the database.

Revocation: the hub's channel also joins `CONTROL_GROUP`. A `live.revoke` message there (sent on
logout, membership and user changes by `core.live_revoke`) makes the hub hand the user's
subscribers to its `checker`, which re-reads their session and teams, closes the sockets whose
login is gone and moves the others to their current teams (`retarget`). Every `recheck_s` seconds
the checker also sees all subscribers, for changes no signal announced (an expired session).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

GROUP_REFRESH_S = 600  # channels-redis forgets group members after `group_expiry` (a day)
YIELD_EVERY = 64  # clients flushed between two chances for the receiver to run
LIVE_LAYER = "live"  # settings.CHANNEL_LAYERS alias (Redis pub/sub); the default layer if missing
CONTROL_GROUP = "live.control"  # every hub of the installation: revocations
DEFAULT_RECHECK_S = 60.0


def live_layer():
    """The Channels layer live events travel on (Redis pub/sub)."""
    return get_channel_layer(LIVE_LAYER) or get_channel_layer()


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
    user_id: int

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
        self.subscribers: set[Subscriber] = set()
        # Re-reads subscribers' logins and teams (set by the consumer; the hub has no database).
        self.checker: Callable[[list[Subscriber], frozenset[str]], Awaitable[None]] | None = None
        self.recheck_s = DEFAULT_RECHECK_S
        self.checks: set[asyncio.Task] = set()

    async def join(self, subscriber: Subscriber) -> None:
        async with self.lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self.tasks = [
                    asyncio.ensure_future(self._receive(self.channel)),
                    asyncio.ensure_future(self._flush()),
                    asyncio.ensure_future(self._refresh_groups(self.channel)),
                    asyncio.ensure_future(self._recheck_periodically()),
                ]
                await self.layer.group_add(CONTROL_GROUP, self.channel)
            self.subscribers.add(subscriber)
            await self._add_teams(subscriber, subscriber.team_slugs)

    async def leave(self, subscriber: Subscriber) -> None:
        async with self.lock:
            self.subscribers.discard(subscriber)
            await self._drop_teams(subscriber, list(subscriber.team_slugs))
            if not self.subscribers and self.channel is not None:
                await self._stop()

    async def retarget(self, subscriber: Subscriber, team_slugs: dict[int, str]) -> None:
        """Move a subscriber to its current teams: no more events of the teams it lost."""
        async with self.lock:
            old = subscriber.team_slugs
            subscriber.team_slugs = dict(team_slugs)
            await self._drop_teams(subscriber, [t for t in old if t not in team_slugs])
            if subscriber in self.subscribers:
                await self._add_teams(subscriber, {t: s for t, s in team_slugs.items() if t not in old})

    async def _add_teams(self, subscriber: Subscriber, team_slugs: dict[int, str]) -> None:
        for team_id, slug in team_slugs.items():
            self.slugs[team_id] = slug
            members = self.members.setdefault(team_id, set())
            if not members:
                await self.layer.group_add(team_group(team_id), self.channel)
            members.add(subscriber)

    async def _drop_teams(self, subscriber: Subscriber, team_ids: list[int]) -> None:
        for team_id in team_ids:
            members = self.members.get(team_id)
            if members is None:
                continue
            members.discard(subscriber)
            if not members:
                del self.members[team_id]
                with contextlib.suppress(Exception):
                    await self.layer.group_discard(team_group(team_id), self.channel)

    async def recheck(self, user_ids: set[int] | None = None, ended: frozenset[str] = frozenset()) -> None:
        """Have the checker re-read the logins and teams of these users' subscribers (None: all);
        `ended` names sessions known to be over (logged out) whatever the database still says."""
        subscribers = [s for s in list(self.subscribers) if user_ids is None or s.user_id in user_ids]
        if subscribers and self.checker is not None:
            await self.checker(subscribers, ended)

    def _revoked(self, message: dict[str, Any]) -> None:
        """A `live.revoke` message: check its user's subscribers, without holding up the receiver."""
        user_ids = {int(u) for u in message.get("users", ())}
        ended = frozenset(str(key) for key in message.get("sessions", ()))
        task = asyncio.ensure_future(self.recheck(user_ids, ended))
        self.checks.add(task)
        task.add_done_callback(self._check_done)

    def _check_done(self, task: asyncio.Task) -> None:
        self.checks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("live hub: revocation check failed", exc_info=task.exception())

    async def _recheck_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.recheck_s)
            try:
                await self.recheck()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("live hub: periodic recheck failed", exc_info=True)

    async def _stop(self) -> None:
        """No clients left: stop receiving (a receive must not outlive its event loop)."""
        tasks, self.tasks, self.channel = [*self.tasks, *self.checks], [], None
        self.checks = set()
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
            try:
                if message.get("type") == "live.event":
                    self.deliver(message)
                elif message.get("type") == "live.revoke":
                    self._revoked(message)
            except Exception:
                logger.exception("live hub: bad message %r", message)

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
            for group in [CONTROL_GROUP, *(team_group(team_id) for team_id in list(self.members))]:
                with contextlib.suppress(Exception):
                    await self.layer.group_add(group, channel)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub_for(layer) -> Hub:
    """The hub of the running event loop (one per daphne process; tests run one loop per test)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None or hub.layer is not layer:
        hub = _hubs[loop] = Hub(layer)
    return hub
