"""The live WebSocket `/ws/live/`: session-authenticated, scoped to the user's teams.

Publishing. Services call `publish(team_id, event)` (or `await publish_async(...)`) after their
transaction commits (`transaction.on_commit`). It is best effort: a Redis failure is logged and
never reaches the caller. Events are typed dicts with a `type` literal; the payloads live next to
their services (`alerts/events.py`: `alert.changed`, `incident.changed`; `forecasting/events.py`:
`anomaly.detected`; `metrics/api.py`: `metric.tick`). Every event except the volatile ones
(`VOLATILE_TYPES`, today `metric.tick`, which only says "new data, refresh") is numbered in its
team's sequence and kept in the team's log for catch-up (`core/live_log.py`); a numbered
event reaches clients with two more fields: `seq` (int) and `team` (the team's slug).

Connecting: `ws://host/ws/live/?since=ops:1763800000000042,payments:7&batch=1&severity=critical&service=checkout`

- `since` (optional): the last `seq` seen per team slug. Present (even empty), it turns on
  catch-up: the server sends every logged event after those numbers (filtered), or
  `{"type": "resync", "team": slug}` when the log cannot vouch for the gap (expired, trimmed,
  Redis restarted), then `{"type": "ready", "cursor": {slug: seq, ...}}` with the current number of
  every team of the user. Without `since` nothing is replayed and no `ready` is sent.
- `batch=1`: when several events are pending for the client they come as one frame holding a
  JSON array (events are otherwise one JSON object per frame).
- `severity`, `service` (comma-separated): server-side filters, also settable later with the
  message `{"type": "filter", "severity": [...], "service": [...]}` (answered by
  `{"type": "filter.applied", ...}`). An event is dropped when it carries the field and its value
  is not in a non-empty list; events without the field always pass.

Delivery inside a process goes through one fan-out hub per event loop (`core/live_hub.py`):
connections have no channel-layer channel of their own.

Losing access: a socket lives only as long as its login and memberships. Logging out closes the
sockets of that session at once (code 4401); removing a membership, deactivating the user or
changing the password makes the socket re-read its teams (it stops receiving the team it lost) or
close (4401) when its session no longer authenticates (`core/live_revoke.py`). Changes no
signal announces (an expired session, a raw SQL update) are caught by a recheck every
`HIVEOPS_LIVE_RECHECK_S` seconds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal, TypedDict
from urllib.parse import parse_qs

import orjson
from asgiref.sync import async_to_sync, sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from core import live_log
from core.live_hub import LIVE_LAYER, Batch, hub_for, live_layer, team_group  # noqa: F401  (LIVE_LAYER: public name)
from core.live_revoke import recheck
from core.observability import metrics as m
from core.teams.models import Membership

logger = logging.getLogger(__name__)

__all__ = ["LiveConsumer", "publish", "publish_async", "team_group"]

VOLATILE_TYPES = frozenset({"metric.tick", "slo.status", "forecast.updated"})
MAX_FILTER_VALUES = 50


class MetricTick(TypedDict):
    type: Literal["metric.tick"]
    at: float  # Unix seconds


class Ready(TypedDict):
    type: Literal["ready"]
    cursor: dict[str, int]


class Resync(TypedDict):
    type: Literal["resync"]
    team: str


def _numbered(team_id: int, event: dict[str, Any]) -> dict[str, Any]:
    if event.get("type") in VOLATILE_TYPES:
        return event
    try:
        return {**event, "seq": live_log.append(team_id, event)}
    except Exception:  # Redis down: deliver what we can; reconnecting clients will resync
        logger.warning("live event for team %s not logged", team_id, exc_info=True)
        return event


async def _group_send(team_id: int, event: dict[str, Any]) -> None:
    layer = live_layer()
    if layer is None:
        return
    try:
        await layer.group_send(team_group(team_id), {"type": "live.event", "team": team_id, "event": event})
    except Exception:  # Redis down or slow: pages catch up when they reconnect
        logger.warning("live event for team %s not published", team_id, exc_info=True)


async def publish_async(team_id: int, event: dict[str, Any]) -> None:
    """Best effort: live updates must never break the write that caused them."""
    if event.get("type") not in VOLATILE_TYPES:
        event = await sync_to_async(_numbered, thread_sensitive=False)(team_id, event)
    await _group_send(team_id, event)


def publish(team_id: int, event: dict[str, Any]) -> None:
    """Synchronous `publish_async`, for services (call it from `transaction.on_commit`)."""
    async_to_sync(_group_send)(team_id, _numbered(team_id, event))


@dataclass(frozen=True)
class Filter:
    severity: frozenset[str] = frozenset()
    service: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.severity or self.service)

    def accepts(self, event: dict[str, Any]) -> bool:
        if self.severity and "severity" in event and event["severity"] not in self.severity:
            return False
        return not (self.service and "service" in event and event["service"] not in self.service)


def filter_from(severity: Any, service: Any) -> Filter:
    """A Filter from two lists of strings (None: no condition); ValueError for anything else."""

    def values(raw: Any, name: str) -> frozenset[str]:
        if raw is None:
            return frozenset()
        if not isinstance(raw, list) or len(raw) > MAX_FILTER_VALUES or not all(isinstance(v, str) for v in raw):
            raise ValueError(f"{name} must be a list of at most {MAX_FILTER_VALUES} strings")
        return frozenset(raw)

    return Filter(severity=values(severity, "severity"), service=values(service, "service"))


def parse_since(raw: str) -> dict[str, int]:
    """`"ops:12,payments:7"` -> {"ops": 12, "payments": 7}; malformed parts are ignored."""
    since = {}
    for part in raw.split(","):
        slug, _, seq = part.strip().partition(":")
        if slug and seq.isdigit():
            since[slug] = int(seq)
    return since


class LiveConsumer(AsyncWebsocketConsumer):
    channel_layer_alias = None  # no channel per connection: the process's hub receives for all

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        params = {
            k: v[-1] for k, v in parse_qs(self.scope.get("query_string", b"").decode(), keep_blank_values=True).items()
        }
        csv = {k: [v for v in params[k].split(",") if v] or None for k in ("severity", "service") if k in params}
        self.filter = filter_from(csv.get("severity"), csv.get("service"))
        self.batch = params.get("batch") == "1"
        since = parse_since(params["since"]) if "since" in params else None
        self.user_id: int = user.pk
        session = self.scope.get("session")
        self.session_key: str | None = getattr(session, "session_key", None) if session is not None else None
        self.team_slugs: dict[int, str] = await self._teams(user)
        self.outbox: list[tuple[int, Batch]] = []  # batches that arrived before we were ready
        self.horizon: dict[int, int] = {}  # per team: events up to here came with the catch-up
        self.ready = False  # the hub queues events for us until then
        layer = live_layer()
        self.hub = hub_for(layer) if layer is not None else None
        if self.hub is not None:
            self.hub.checker = recheck
            self.hub.recheck_s = settings.HIVEOPS_LIVE_RECHECK_S
            await self.hub.join(self)  # before accepting: an open socket means "subscribed"
        await self.accept()
        m.ws_opened(self)
        if since is not None:
            await self._catch_up(since)
        else:
            self._go_live()

    async def disconnect(self, code: int) -> None:
        m.ws_closed(self)
        self.ready = False
        if getattr(self, "hub", None) is not None:
            await self.hub.leave(self)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = orjson.loads(text_data or bytes_data or b"")
            if not isinstance(message, dict) or message.get("type") != "filter":
                raise ValueError('expected {"type": "filter", ...}')
            self.filter = filter_from(message.get("severity"), message.get("service"))
        except ValueError as exc:  # orjson.JSONDecodeError is a ValueError
            await self._send_json({"type": "error", "detail": str(exc)})
            return
        applied = {"severity": sorted(self.filter.severity), "service": sorted(self.filter.service)}
        await self._send_json({"type": "filter.applied", **applied})

    async def push(self, team_id: int, batch: Batch) -> None:
        """Send one team's new events (called by the hub)."""
        if team_id not in self.team_slugs:  # a team the user just lost (the batch was already queued)
            return
        if not self.ready:
            self.outbox.append((team_id, batch))
            return
        horizon = self.horizon.get(team_id)
        if horizon is not None and batch.items[-1][0] is not None and batch.items[-1][0] > horizon:
            # Publishing has moved past the catch-up; later batches cannot hold replayed events.
            del self.horizon[team_id]
        if self.filter or horizon is not None:
            items = [(seq, text) for seq, text, event in batch.items if self.filter.accepts(event)]
            if horizon is not None:
                items = [(seq, text) for seq, text in items if seq is None or seq > horizon]
            await self._send_texts([text for _, text in items])
        elif self.batch:
            await self.base_send({"type": "websocket.send", "text": batch.frame})
        else:
            await self._send_texts([text for _, text, _ in batch.items])

    async def revoke(self) -> None:
        """The login behind this socket is gone: no more events, and close."""
        if self.hub is not None:
            await self.hub.retarget(self, {})
        self.team_slugs, self.outbox, self.ready = {}, [], False
        await self.close(code=4401)

    async def flush(self) -> None:
        """Send the batches queued while the catch-up ran (called by the hub)."""
        outbox, self.outbox = self.outbox, []
        for team_id, batch in outbox:
            await self.push(team_id, batch)

    async def _catch_up(self, since: dict[str, int]) -> None:
        try:
            replays = await sync_to_async(self._replays, thread_sensitive=False)(since)
        except Exception:  # Redis unreachable: let the client retry with backoff
            logger.warning("live catch-up failed", exc_info=True)
            await self.close(code=1011)
            return
        events: list[dict[str, Any]] = []
        cursor = {}
        for team_id, slug in self.team_slugs.items():
            replay = replays[team_id]
            cursor[slug] = replay.current
            if slug in since:
                self.horizon[team_id] = replay.current
            if replay.resync:
                events.append(Resync(type="resync", team=slug))
            else:
                events.extend({**e, "team": slug} for e in replay.events if self.filter.accepts(e))
        events.append(Ready(type="ready", cursor=cursor))
        await self._send_texts([orjson.dumps(e).decode() for e in events])
        self._go_live()

    def _go_live(self) -> None:
        self.ready = True
        if self.outbox and self.hub is not None:
            self.hub.mark_dirty(self)

    def _replays(self, since: dict[str, int]) -> dict[int, live_log.Replay]:
        return {team_id: live_log.replay(team_id, since=since.get(slug)) for team_id, slug in self.team_slugs.items()}

    async def _send_texts(self, texts: list[str]) -> None:
        if not texts:
            return
        if self.batch and len(texts) > 1:
            await self.base_send({"type": "websocket.send", "text": "[" + ",".join(texts) + "]"})
            return
        for text in texts:
            await self.base_send({"type": "websocket.send", "text": text})

    async def _send_json(self, message: dict[str, Any]) -> None:
        await self.send(text_data=orjson.dumps(message).decode())

    @database_sync_to_async
    def _teams(self, user) -> dict[int, str]:
        return dict(Membership.objects.filter(user=user).values_list("team_id", "team__slug"))
