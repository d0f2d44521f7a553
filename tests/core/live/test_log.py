"""The catch-up decision, on hand-made log entries, and the Redis log itself."""

from __future__ import annotations

import time

import orjson
import pytest

from core import live_log
from core.live_log import replay_plan


def entries(*seqs: int) -> list[bytes]:
    return [f"{seq} ".encode() + orjson.dumps({"type": "alert.changed", "id": f"a{seq}"}) for seq in seqs]


def test_it_replays_the_events_after_since_in_order():
    plan = replay_plan(since=11, current=14, entries=entries(10, 11, 12, 13, 14))
    assert not plan.resync
    assert [(e["id"], e["seq"]) for e in plan.events] == [("a12", 12), ("a13", 13), ("a14", 14)]
    assert plan.current == 14


def test_it_replays_when_the_first_kept_event_is_the_next_one():
    plan = replay_plan(since=11, current=13, entries=entries(12, 13))
    assert [e["seq"] for e in plan.events] == [12, 13]
    assert not plan.resync


def test_nothing_missed_needs_no_log():
    plan = replay_plan(since=14, current=14, entries=[])
    assert plan.events == []
    assert not plan.resync


@pytest.mark.parametrize(
    ("since", "current", "kept"),
    [
        (10, 14, (12, 13, 14)),  # event 11 was trimmed
        (10, 14, ()),  # the log expired
        (15, 14, (14,)),  # a number from another numbering
        (10, None, ()),  # the counter itself is gone
    ],
)
def test_it_asks_for_a_resync_when_it_cannot_vouch_for_the_gap(since, current, kept):
    plan = replay_plan(since=since, current=current, entries=entries(*kept))
    assert plan.resync
    assert plan.events == []


@pytest.mark.django_db
def test_append_numbers_consecutively_and_keeps_the_newest(settings):
    settings.HIVEOPS_LIVE_LOG_SIZE = 3
    seqs = [live_log.append(7, {"type": "alert.changed", "id": f"a{i}"}) for i in range(5)]
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    current, kept = live_log.snapshot(7)
    assert current == seqs[-1]
    assert [int(e.split(b" ", 1)[0]) for e in kept] == seqs[-3:]
    assert live_log.client().ttl(live_log.log_key(7)) > 0
    assert live_log.client().ttl(live_log.seq_key(7)) == -1  # the counter never expires


@pytest.mark.django_db
def test_a_lost_counter_restarts_above_every_earlier_number():
    before = live_log.append(7, {"type": "alert.changed"})
    live_log.client().delete(live_log.seq_key(7), live_log.log_key(7))  # what a Redis restart does
    time.sleep(0.01)  # a restart takes far longer; numbers restart at 1,000 per elapsed millisecond
    after = live_log.append(7, {"type": "alert.changed"})
    assert after > before + 1
    assert live_log.replay(7, since=before).resync


@pytest.mark.django_db
def test_replay_without_since_only_reports_the_current_number():
    seq = live_log.append(7, {"type": "alert.changed"})
    plan = live_log.replay(7, since=None)
    assert (plan.current, plan.events, plan.resync) == (seq, [], False)
    assert live_log.replay(8, since=None).current == 0
