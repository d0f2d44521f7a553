from __future__ import annotations

import numpy as np
import pytest

from forecasting.algorithms.detection import KINDS, Detector, Score, detector, train_models
from forecasting.algorithms.detection.detector import WINDOW

STEP = 300  # 5-minute samples
START = 1_700_000_000


def seasonal_series(n: int = 3000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A daily sine plus Gaussian noise, sampled every 5 minutes."""
    rng = np.random.default_rng(seed)
    ts = START + STEP * np.arange(n, dtype=float)
    values = 50 + 20 * np.sin(2 * np.pi * ts / 86400) + rng.normal(0, 1.5, n)
    return ts, values


def stream(ts: np.ndarray, values: np.ndarray, det: Detector | None = None, start: int = 0) -> list[Score]:
    """Feed points start.. through the detector, training its models whenever it asks."""
    det = det or Detector()
    out = []
    for i in range(start, len(values)):
        out.append(det.update(ts[i], values[i]))
        if det.needs_training():
            det.set_models(train_models(ts[: i + 1], values[: i + 1]))
    return out


def test_it_stays_quiet_on_clean_seasonal_noise():
    ts, values = seasonal_series()
    scores = np.array([s.score for s in stream(ts, values)])[600:]
    assert np.all((scores >= 0) & (scores <= 1))
    assert (scores >= 0.5).mean() < 0.005
    assert np.percentile(scores, 99) < 0.4


@pytest.mark.parametrize(("delta", "kind"), [(30.0, "spike"), (-30.0, "drop")])
def test_it_flags_an_injected_spike_or_drop(delta, kind):
    ts, values = seasonal_series()
    clean = np.array([s.score for s in stream(ts, values)])
    values[2000] += delta
    result = stream(ts, values)[2000]
    assert result.score >= 0.9
    assert result.score > clean[600:].max()
    assert result.kind == kind
    assert result.lower <= result.expected <= result.upper
    assert not result.lower <= values[2000] <= result.upper


def test_it_flags_a_level_shift_once_then_names_it():
    ts, values = seasonal_series()
    values[2000:] += 25.0
    scores = stream(ts, values)
    assert scores[2000].score >= 0.9
    # One alert, not a burst: the following points stay below the alert level.
    assert max(s.score for s in scores[2001:2150]) < 0.5
    assert "level_shift" in {s.kind for s in scores[2000:2020]}


def test_components_explain_the_score():
    ts, values = seasonal_series()
    values[2000] += 30.0
    result = stream(ts, values)[2000]
    assert {"ewma", "iqr", "seasonal", "level", "iforest", "ocsvm", "likelihood"} <= set(result.components)
    assert all(0.0 <= c <= 1.0 for c in result.components.values())
    assert result.components["ewma"] > 0.5
    assert result.components["seasonal"] > 0.5


def flat_noise(n: int = 1500, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return START + STEP * np.arange(n, dtype=float), 10 + rng.uniform(-1, 1, n)


def test_a_value_beyond_the_range_seen_so_far_scores_at_least_the_range_score(monkeypatch):
    monkeypatch.setattr(detector, "REST", 0)  # no resting after an earlier alert: the score as it is
    ts, values = flat_noise()
    values[1200] = 11.3  # 15 % of the range (2) above the highest value so far
    values[1300] = 8.95  # ≈ 2 % below the lowest: inside the 5 % margin, not a range anomaly
    scores = stream(ts, values)
    assert scores[1200].components["range"] == 1.0
    assert scores[1200].score >= detector.RANGE_SCORE
    assert scores[1200].kind is not None
    assert scores[1300].components["range"] == 0.0
    inside = [s.components["range"] for s in scores[detector.RANGE_AFTER : 1200]]
    assert max(inside) == 0.0


def test_the_range_waits_for_range_after_points_and_can_be_turned_off(monkeypatch):
    ts, values = flat_noise(n=400)
    values[150] = 30.0  # before RANGE_AFTER: the range is still being learned
    values[350] = 60.0
    scores = stream(ts, values)
    assert scores[150].components["range"] == 0.0
    assert scores[350].components["range"] == 1.0
    monkeypatch.setattr(detector, "RANGE_MARGIN", 0.0)
    assert stream(ts, values)[350].components["range"] == 0.0


@pytest.mark.parametrize("escalates", [True, False])
def test_a_range_anomaly_during_a_rest_is_damped_only_when_ranges_do_not_escalate(monkeypatch, escalates):
    monkeypatch.setattr(detector, "RANGE_ESCALATES", escalates)
    ts, values = flat_noise()
    values[1000] = 40.0  # an alert: the detector rests for the next REST points
    values[1020] = 60.0  # breaks the range again (now 9-40) while resting
    scores = stream(ts, values)
    assert scores[1000].score >= detector.RANGE_SCORE
    assert scores[1020].components["range"] == 1.0
    if escalates:
        assert scores[1020].score >= detector.RANGE_SCORE
    else:
        assert scores[1020].score < detector.FIRE


def test_confidence_grows_while_learning():
    ts, values = seasonal_series(n=400)
    scores = stream(ts, values)
    assert scores[5].confidence < 0.1
    assert scores[-1].confidence == 1.0  # models trained by then
    assert scores[5].kind is None or scores[5].kind in KINDS


def test_restored_state_gives_identical_future_scores():
    ts, values = seasonal_series(n=2600)
    values[2300] += 40.0
    values[2400:] -= 15.0
    uninterrupted = stream(ts, values)

    det = Detector()
    first = stream(ts[:1500], values[:1500], det)
    blob = det.to_bytes()
    restored = Detector.from_bytes(blob)
    assert restored.to_bytes() == blob
    resumed = first + stream(ts, values, restored, start=1500)

    assert [s.score for s in resumed] == [s.score for s in uninterrupted]
    assert [s.kind for s in resumed] == [s.kind for s in uninterrupted]


def test_suppress_lowers_the_score_of_that_kind_only_and_is_reversible():
    ts, values = seasonal_series()
    values[2000] += 30.0
    det = Detector()
    stream(ts[:2000], values[:2000], det)
    state = det.to_bytes()

    plain = Detector.from_bytes(state).update(ts[2000], values[2000])
    quiet = Detector.from_bytes(state)
    quiet.suppress("spike", 3.0)
    other = Detector.from_bytes(state)
    other.suppress("drop", 3.0)
    undone = Detector.from_bytes(state)
    undone.suppress("spike", 3.0)
    undone.suppress("spike", 1.0)

    assert quiet.update(ts[2000], values[2000]).score < plain.score - 0.3
    assert other.update(ts[2000], values[2000]).score == plain.score
    assert undone.update(ts[2000], values[2000]).score == plain.score


def test_desensitise_applies_to_every_kind():
    ts, values = seasonal_series()
    values[2000] -= 30.0
    plain = stream(ts, values)[2000].score
    damped = stream(ts, values, Detector(desensitise=3.0))[2000].score
    assert damped < plain - 0.3


def test_train_models_needs_enough_history():
    ts, values = seasonal_series(n=3000)
    assert train_models(ts[:50], values[:50]) is None
    blob = train_models(ts, values)
    assert isinstance(blob, bytes)
    assert train_models(ts, values) == blob  # deterministic


def test_needs_training_asks_at_first_then_periodically():
    ts, values = seasonal_series(n=1400)
    det = Detector()
    asked = []
    for i in range(len(values)):
        det.update(ts[i], values[i])
        if det.needs_training():
            asked.append(i + 1)
            det.set_models(train_models(ts[: i + 1], values[: i + 1]))
    assert asked == [300, 600, 1200]


def test_non_finite_values_are_ignored():
    det = Detector()
    det.update(START, 1.0)
    before = det.to_bytes()
    result = det.update(START + STEP, float("nan"))
    assert result.score == 0.0
    assert det.to_bytes() == before


def test_from_bytes_rejects_garbage():
    with pytest.raises(ValueError, match="not a detector state"):
        Detector.from_bytes(b"x" * 400)


def test_context_novelty_fades_on_a_repeating_pattern_and_returns_for_a_new_one():
    det = Detector()
    pattern = [1.0, 5.0, 3.0, 9.0, 2.0, 7.0]
    novelty = [det.update(START + STEP * i, pattern[i % 6]).components["context"] for i in range(600)]
    assert sum(novelty[100:200]) == 0.0  # learned
    new = det.update(START + STEP * 600, 9.0)  # 9 after 7, 2, 9: never seen in that context
    assert new.components["context"] > 0.5
    assert len(det.to_bytes()) < 16_000  # bounded memory


def test_context_memory_stays_bounded_and_forgets():
    pattern = [1.0, 5.0, 3.0, 9.0, 2.0, 7.0]
    rng = np.random.default_rng(5)
    det = Detector()
    sizes = set()
    values = [pattern[i % 6] for i in range(600)] + [*rng.uniform(1, 9, 8000)] + pattern * 10  # one range
    novelty = []
    for i, v in enumerate(values):
        novelty.append(det.update(START + STEP * i, float(v)).components["context"])
        if i >= WINDOW:
            sizes.add(len(det.to_bytes()))
    assert len(sizes) == 1  # fixed-size state once the window is full
    again = novelty[8600 + 8 : 8600 + 14]  # the pattern's own contexts, back after the noise
    assert max(again) > 0  # were forgotten
    assert max(novelty[-12:]) == 0  # and learned again
