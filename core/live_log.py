"""Per-team event log in Redis, so live clients can catch up on what they missed while offline.

Every logged event gets the next number of its team's sequence (`INCR`) and is appended to a
capped list holding the team's last `HIVEOPS_LIVE_LOG_SIZE` events for `HIVEOPS_LIVE_LOG_TTL_S`
seconds after the latest one. Both happen in one Lua script, so list order is sequence order.

Surviving a Redis restart: a missing counter starts again at `now_ms * 1000`, above any number
handed out before (that would need 1,000 events per millisecond). A client that reconnects with
an old number then finds a gap between its number and the log's first entry and is told to
resync, instead of silently taking the new numbering as a continuation of the old one.

The counter has no TTL (one small key per team): after a quiet hour the log is gone but a client
whose number equals the counter has missed nothing and needs no resync.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import orjson
import redis
from django.conf import settings

APPEND_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('SET', KEYS[1], ARGV[1])
end
local seq = redis.call('INCR', KEYS[1])
redis.call('RPUSH', KEYS[2], string.format('%d ', seq) .. ARGV[2])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[4])
return seq
"""


def key_prefix() -> str:
    """ "<HIVEOPS_INSTALLATION>:live": installations sharing a Redis server keep apart."""
    return f"{settings.HIVEOPS_INSTALLATION}:live"


def seq_key(team_id: int) -> str:
    return f"{key_prefix()}:seq:{team_id}"


def log_key(team_id: int) -> str:
    return f"{key_prefix()}:log:{team_id}"


def _append_args(team_id: int, event: dict) -> tuple:
    base = int(time.time() * 1000) * 1000
    size = settings.HIVEOPS_LIVE_LOG_SIZE
    return (2, seq_key(team_id), log_key(team_id), base, orjson.dumps(event), size, settings.HIVEOPS_LIVE_LOG_TTL_S)


_client: redis.Redis | None = None


def client() -> redis.Redis:
    """One thread-safe connection pool per process; async callers go through a worker thread."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _client


def append(team_id: int, event: dict) -> int:
    """Log `event` for the team; returns its sequence number. Raises if Redis fails."""
    return int(client().eval(APPEND_LUA, *_append_args(team_id, event)))


@dataclass
class Replay:
    """What a client that last saw `since` gets: the events after it, or `resync` if they are lost."""

    current: int  # the team's latest sequence number (0 if none was ever handed out)
    events: list[dict] = field(default_factory=list)
    resync: bool = False


def replay_plan(*, since: int, current: int | None, entries: list[bytes]) -> Replay:
    """Pure: decide what to replay from the counter and the raw log entries (`b"<seq> <json>"`)."""
    if current is None:  # counter gone (Redis lost its data): nothing can be vouched for
        return Replay(current=0, resync=True)
    if since == current:
        return Replay(current=current)
    if since > current:  # a number from another numbering
        return Replay(current=current, resync=True)
    events = []
    first = None
    for entry in entries:
        raw_seq, _, body = entry.partition(b" ")
        seq = int(raw_seq)
        if first is None:
            first = seq
        if seq > since:
            events.append({**orjson.loads(body), "seq": seq})
    if first is None or first > since + 1:  # expired or trimmed past the client's position
        return Replay(current=current, resync=True)
    return Replay(current=current, events=events)


def snapshot(team_id: int) -> tuple[int | None, list[bytes]]:
    """The counter and the whole log, read atomically."""
    with client().pipeline(transaction=True) as pipe:
        pipe.get(seq_key(team_id))
        pipe.lrange(log_key(team_id), 0, -1)
        current, entries = pipe.execute()
    return (int(current) if current is not None else None), entries


def replay(team_id: int, *, since: int | None) -> Replay:
    """Events after `since` (None: a fresh client, nothing to replay, just the current number)."""
    if since is None:
        return Replay(current=int(client().get(seq_key(team_id)) or 0))
    current, entries = snapshot(team_id)
    return replay_plan(since=since, current=current, entries=entries)
