from __future__ import annotations

import math

import pytest

from forecasting.evaluation import nab

# A 20-row file: probation = floor(0.15 * 20) = 3 rows; one window over rows 10..13 (width 4).
STAMPS = [f"2020-01-01 00:{m:02d}:00" for m in range(20)]
WINDOW = [(STAMPS[10], STAMPS[13])]


def sigmoid(y: float) -> float:
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def scores_with(**hits: float) -> list[float]:
    out = [0.0] * 20
    for key, value in hits.items():
        out[int(key[1:])] = value
    return out


def one_file(scores: list[float]) -> dict:
    return {"cat/f.csv": (STAMPS, scores, WINDOW)}


def test_detection_at_the_window_start_plus_one_early_false_positive():
    # Row 5 fires first (a false positive before any window, full weight), row 10 at the window start.
    result = nab.corpus_score(one_file(scores_with(r5=0.9, r10=0.8)))
    # Best threshold 0.8: raw = 1 (full credit) - fp weight.
    assert result["standard"]["score"] == pytest.approx(100 * (1 - 0.11 + 1) / 2, abs=0.01)
    assert result["reward_low_FP_rate"]["score"] == pytest.approx(100 * (1 - 0.22 + 1) / 2, abs=0.01)
    assert result["reward_low_FN_rate"]["score"] == pytest.approx(100 * (1 - 0.11 + 2) / 3, abs=0.01)
    assert result["standard"]["threshold"] == 0.8


def test_late_detection_earns_the_scaled_sigmoid():
    result = nab.corpus_score(one_file(scores_with(r13=0.7)))
    credit = sigmoid(-(13 - 13 + 1) / 4) / sigmoid(-1.0)  # last row of the window
    assert credit == pytest.approx(0.5621, abs=1e-3)
    assert result["standard"]["raw"] == pytest.approx(credit)
    assert result["standard"]["score"] == pytest.approx(100 * (credit + 1) / 2, abs=0.01)


def test_a_false_positive_just_after_a_window_costs_less():
    # Row 10 detects; row 14 fires one row after the window ends: penalty scaled by its distance.
    result = nab.corpus_score(one_file(scores_with(r10=0.9, r14=0.9)))
    penalty = 0.11 * -sigmoid(abs(13 - 14) / (4 - 1))
    assert result["standard"]["raw"] == pytest.approx(1.0 - penalty)


def test_probation_rows_are_not_scored():
    with_probation_hit = nab.corpus_score(one_file(scores_with(r2=1.0, r5=0.5)))
    without = nab.corpus_score(one_file(scores_with(r5=0.5)))
    assert with_probation_hit == without
    assert nab.probation_rows(20) == 3
    assert nab.probation_rows(100_000) == 750


def test_the_threshold_is_global_across_files():
    # File a needs threshold <= 0.4 to detect; file b has a false positive at 0.5 (before its window).
    files = {
        "c/a.csv": (STAMPS, scores_with(r10=0.4), WINDOW),
        "c/b.csv": (STAMPS, scores_with(r5=0.5), WINDOW),
    }
    result = nab.corpus_score(files)["standard"]
    # At 0.4 both rows fire: +1 for a, -0.11 for b, b's window missed (-1).
    assert result["threshold"] == 0.4
    assert result["raw"] == pytest.approx(1 - 0.11 - 1)
    assert result["score"] == pytest.approx(100 * (1 - 0.11 - 1 + 2) / 4, abs=0.01)


def test_repeated_timestamps_use_their_first_row():
    stamps = [*STAMPS[:10], STAMPS[9], *STAMPS[10:19]]  # row 10 repeats row 9's timestamp
    spans = nab.window_spans(stamps, [(STAMPS[9], STAMPS[12])])
    assert spans == [(9, 13)]


def test_load_windows_normalises_timestamps(tmp_path):
    path = tmp_path / "w.json"
    path.write_text('{"c/a.csv": [["2020-01-01 00:10:00.000000", "2020-01-01 00:13:00.000000"]]}')
    assert nab.load_windows(path) == {"c/a.csv": [("2020-01-01 00:10:00", "2020-01-01 00:13:00")]}


def test_category_scores_use_the_corpus_thresholds():
    files = {
        "good/a.csv": (STAMPS, scores_with(r10=0.8), WINDOW),
        "noisy/b.csv": (STAMPS, scores_with(r5=0.9, r12=0.8), WINDOW),
        "quiet/c.csv": (STAMPS, scores_with(r6=0.9), []),
    }
    thresholds = {"standard": 0.8, "reward_low_FP_rate": 0.85, "reward_low_FN_rate": 0.8}
    result = nab.category_scores(files, thresholds)
    credit = sigmoid(-(13 - 12 + 1) / 4) / sigmoid(-1.0)
    assert result["good"]["standard"] == 100.0
    assert result["noisy"]["standard"] == pytest.approx(100 * (credit - 0.11 + 1) / 2, abs=0.01)
    # At 0.85 only b's false positive fires and its window is missed.
    assert result["noisy"]["low_fp"] == pytest.approx(100 * (-0.22 - 1 + 1) / 2, abs=0.01)
    assert result["noisy"]["false_positives"] == 1
    assert result["quiet"] == {"standard": None, "low_fp": None, "low_fn": None, "false_positives": 1}
