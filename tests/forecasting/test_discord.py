"""The shape-discord component (discord.py) and detector states saved before it (HD02)."""

from __future__ import annotations

from array import array
from pathlib import Path

import numpy as np
import pytest

from forecasting.algorithms.detection import Detector, detector, discord
from tests.forecasting.test_detection import seasonal_series, stream

# A state saved by the detector before the discord component (format HD02): seasonal_series(n=1500)
# streamed through stream(), models trained.
HD02_STATE = Path(__file__).parent / "data" / "detector_hd02.bin"


def brute_force(past: np.ndarray, x: float, m: int, skip=()) -> float:
    """Nearest z-normalised distance of (past[-(m-1):], x) to every window of `past` that ends
    before the query starts (but those starting at an index in `skip`), by the definition."""
    query = np.append(past[len(past) - m + 1 :], x)
    query = (query - query.mean()) / query.std()
    best = np.inf
    for i in range(len(past) - 2 * m + 2):
        if i in skip:
            continue
        window = past[i : i + m]
        window = (window - window.mean()) / window.std()
        best = min(best, float(np.sqrt(((window - query) ** 2).sum())))
    return best


def fill(values: np.ndarray, size: int = 64, m: int = 4) -> tuple[array, array, int]:
    """A value ring of `size` and its window ring after pushing `values` one by one."""
    ring, inv, head = array("d", bytes(8 * size)), array("f", bytes(4 * size)), 0
    for count, v in enumerate(values, start=1):
        ring[head] = v
        discord.after_push(inv, ring, head, count, m)
        head = (head + 1) % size
    return ring, inv, head


@pytest.mark.parametrize("n", [40, 64, 150])
def test_distance_is_the_nearest_z_normalised_window_distance(n):
    rng = np.random.default_rng(n)
    values = 1000.0 + np.sin(np.arange(n) / 3.0) + 0.3 * rng.normal(size=n)
    ring, inv, head = fill(values)
    past = values[-64:]
    # Windows starting at the ring's last m - 1 positions wrap round its end: not compared.
    oldest = head if n >= 64 else 0
    skip = {i for i in range(len(past)) if (oldest + i) % 64 > 64 - 4} if n >= 64 else set()
    for x in (1000.0, 1003.0, 999.2):
        got = discord.distance(ring, inv, head, n, x, 4)
        assert got == pytest.approx(brute_force(past, x, 4, skip), abs=1e-5)  # float32 1 / sd
        assert got >= brute_force(past, x, 4) - 1e-5


def test_rebuild_gives_the_ring_kept_point_by_point():
    values = np.random.default_rng(3).normal(size=200)
    ring, inv, head = fill(values)
    assert list(discord.rebuild(ring, head, len(values), 4)) == list(inv)
    young, young_inv, young_head = fill(values[:30])
    assert list(discord.rebuild(young, young_head, 30, 4)) == list(young_inv)


def test_a_flat_query_or_too_short_a_history_is_no_discord():
    ring, inv, head = fill(np.random.default_rng(4).normal(size=100))
    assert discord.distance(ring, inv, head, 100, float(ring[(head - 1) % 64]), 4) >= 0.0
    flat, flat_inv, flat_head = fill(np.full(100, 5.0))
    assert discord.distance(flat, flat_inv, flat_head, 100, 5.0, 4) == 0.0
    short, short_inv, short_head = fill(np.arange(10.0))
    assert discord.distance(short, short_inv, short_head, 10, 3.0, 4) == 0.0


def test_a_new_shape_scores_higher_than_a_repeated_one(monkeypatch):
    monkeypatch.setattr(detector, "DISCORD_WEIGHT", 0.5)
    n = 1200
    ts = 1_700_000_000 + 300.0 * np.arange(n)
    values = np.tile([0.0, 1.0, 3.0, 1.0, 0.0, -1.0, -3.0, -1.0], n // 8) + 0.01 * np.sin(np.arange(n))
    values[1100:1104] = [3.0, 3.0, -3.0, -3.0]  # the same levels, a shape never seen
    det = Detector()
    scores = [det.update(t, v) for t, v in zip(ts, values, strict=True)]
    before = max(s.components["discord"] for s in scores[900:1100])
    during = max(s.components["discord"] for s in scores[1100:1110])
    assert before == 0.0
    assert during > 0.5


def test_off_by_default_it_costs_nothing_and_keeps_no_window_ring():
    assert detector.DISCORD_WEIGHT == 0.0
    ts, values = seasonal_series(n=400)
    det = Detector()
    scores = stream(ts, values, det)
    assert all(s.components["discord"] == 0.0 for s in scores)
    assert det.disc_at != det.n
    restored = Detector.from_bytes(det.to_bytes())
    assert restored.to_bytes() == det.to_bytes()


def test_turned_on_the_window_ring_is_saved_and_restored(monkeypatch):
    monkeypatch.setattr(detector, "DISCORD_WEIGHT", 0.5)
    ts, values = seasonal_series(n=2000)
    values[1700] += 12.0
    uninterrupted = stream(ts, values)
    det = Detector()
    first = stream(ts[:1500], values[:1500], det)
    blob = det.to_bytes()
    restored = Detector.from_bytes(blob)
    assert restored.to_bytes() == blob
    resumed = first + stream(ts, values, restored, start=1500)
    assert [s.score for s in resumed] == [s.score for s in uninterrupted]
    assert max(s.components["discord"] for s in uninterrupted) > 0.0


def test_a_state_saved_before_the_discord_component_keeps_working():
    blob = HD02_STATE.read_bytes()
    assert blob[:4] == b"HD02"
    ts, values = seasonal_series(n=1800)
    values[1600] += 40.0
    fresh = Detector()
    uninterrupted = stream(ts, values, fresh)
    old = Detector.from_bytes(blob)
    assert old.n == 1500
    assert old.models is not None
    resumed = stream(ts, values, old, start=1500)
    assert [s.score for s in resumed] == [s.score for s in uninterrupted[1500:]]
    assert old.to_bytes()[:4] == b"HD03"
    assert Detector.from_bytes(old.to_bytes()).to_bytes() == old.to_bytes()


def test_an_old_state_rebuilds_its_window_ring_when_the_component_is_on(monkeypatch):
    monkeypatch.setattr(detector, "DISCORD_WEIGHT", 0.5)
    ts, values = seasonal_series(n=1600)
    fresh = Detector()
    uninterrupted = stream(ts, values, fresh)
    old = Detector.from_bytes(HD02_STATE.read_bytes())
    resumed = stream(ts, values, old, start=1500)
    assert list(old.inv_sds) == list(fresh.inv_sds)
    assert len(resumed) == len(uninterrupted[1500:])
    # Only the discord histogram differs (it starts empty): the distances themselves agree.
    x = float(values[-1]) + 3.0
    assert discord.distance(old.ring, old.inv_sds, old.head, old.n, x) == discord.distance(
        fresh.ring, fresh.inv_sds, fresh.head, fresh.n, x
    )


def test_discord_every_computes_the_distance_on_every_kth_point_only(monkeypatch):
    monkeypatch.setattr(detector, "DISCORD_WEIGHT", 0.5)
    monkeypatch.setattr(detector, "DISCORD_EVERY", 2)
    ts, values = seasonal_series(n=1200)
    values[1000:1008] = values[1000:1008][::-1] + np.array([5.0, -5.0] * 4)
    det = Detector()
    scores = stream(ts, values, det)
    assert all(s.components["discord"] == 0.0 for s in scores[1::2])
    assert max(s.components["discord"] for s in scores[::2]) > 0.0
    assert list(det.inv_sds) == list(discord.rebuild(det.ring, det.head, det.n))
