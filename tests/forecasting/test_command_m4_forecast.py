from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from forecasting.evaluation import m4
from forecasting.models import EvaluationRun


def write_m4(path, rows: dict[str, np.ndarray], width: int) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow([f"V{i}" for i in range(1, width + 2)])
        for key, values in rows.items():
            writer.writerow([key, *values.tolist(), *[""] * (width - len(values))])


def test_it_forecasts_every_series_and_scores_them(tmp_path, db):
    rng = np.random.default_rng(7)
    lengths = {"H1": 400, "H2": 500, "H3": 380}
    full = {
        k: 100 + 20 * np.sin(2 * np.pi * np.arange(n + 48) / 24) + rng.normal(0, 1, n + 48) for k, n in lengths.items()
    }
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    write_m4(train, {k: v[:-48] for k, v in full.items()}, 500)
    write_m4(test, {k: v[-48:] for k, v in full.items()}, 48)
    out, stdout = tmp_path / "out.csv", io.StringIO()

    call_command(
        "m4_forecast", str(train), str(out), "--horizon", "48", "--season", "24", "--test", str(test), stdout=stdout
    )

    forecasts = m4.load_m4(out)
    assert sorted(forecasts) == ["H1", "H2", "H3"]
    assert all(len(v) == 48 and np.all(np.isfinite(v)) for v in forecasts.values())
    text = stdout.getvalue()
    assert "sMAPE" in text
    # Noise σ = 1 around a level of 100: about 0.8 % error at best; Naive2 is near-optimal here too.
    assert float(text.split("sMAPE ")[1].split()[0]) < 2.0
    assert float(text.split("OWA ")[1].split()[0]) < 1.2
    run = EvaluationRun.objects.get()  # kept for the model card
    assert run.kind == "m4"
    assert run.series == 3
    assert run.scores["smape"] == float(text.split("sMAPE ")[1].split()[0])


def test_it_runs_in_parallel_and_prints_json(tmp_path, db):
    rng = np.random.default_rng(8)
    full = {f"H{i}": 50 + 5 * np.sin(2 * np.pi * np.arange(300) / 24) + rng.normal(0, 1, 300) for i in range(1, 5)}
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    write_m4(train, {k: v[:-24] for k, v in full.items()}, 276)
    write_m4(test, {k: v[-24:] for k, v in full.items()}, 24)
    out, stdout = tmp_path / "out.csv", io.StringIO()

    call_command(
        "m4_forecast",
        str(train),
        str(out),
        "--horizon",
        "24",
        "--test",
        str(test),
        "--jobs",
        "2",
        "--json",
        stdout=stdout,
    )

    assert len(m4.load_m4(out)) == 4
    result = __import__("json").loads(stdout.getvalue().splitlines()[-1])
    assert result["series"] == 4
    assert sum(result["members"].values()) >= 4


def test_cross_validation_writes_held_out_forecasts_and_records_the_held_out_figure(tmp_path, db):
    rng = np.random.default_rng(9)
    full = {
        f"H{i}": 80 + 10 * np.sin(2 * np.pi * np.arange(24 * 16) / 24 + i) + rng.normal(0, 1, 24 * 16)
        for i in range(1, 7)
    }
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    write_m4(train, {k: v[:-24] for k, v in full.items()}, 24 * 15)
    write_m4(test, {k: v[-24:] for k, v in full.items()}, 24)
    out, stdout = tmp_path / "out.csv", io.StringIO()

    call_command(
        "m4_forecast", str(train), str(out), "--horizon", "24", "--test", str(test), "--cv", "5", stdout=stdout
    )

    forecasts = m4.load_m4(out)
    assert sorted(forecasts) == sorted(full)
    text = stdout.getvalue()
    assert text.count("  fold ") == 5
    for part in ("cross-validated (5 folds)", "in-sample", "interval coverage"):
        assert part in text
    run = EvaluationRun.objects.get()
    assert run.kind == "m4_cv"
    assert run.series == 6
    assert run.scores["owa"] == float(text.split("cross-validated (5 folds): ")[1].split("OWA ")[1].split()[0])
    assert 0 <= run.scores["coverage80"] <= run.scores["coverage95"] <= 1
    assert len(run.details["per_fold"]) == 5
    # The held-out file is what the reference scorer would read: its score is the recorded one.
    actual, history = m4.load_m4(test), m4.load_m4(train)
    assert round(m4.score(history, actual, forecasts, season=24).owa, 3) == run.scores["owa"]


def test_cross_validation_needs_the_test_file_and_five_folds(tmp_path, db):
    train = tmp_path / "train.csv"
    write_m4(train, {f"H{i}": np.arange(100.0) for i in range(6)}, 100)
    with pytest.raises(CommandError, match="--test"):
        call_command("m4_forecast", str(train), str(tmp_path / "o.csv"), "--cv", "5")
    with pytest.raises(CommandError, match="at least 5"):
        call_command("m4_forecast", str(train), str(tmp_path / "o.csv"), "--cv", "3", "--test", str(train))
    with pytest.raises(CommandError, match="exceed"):
        call_command("m4_forecast", str(train), str(tmp_path / "o.csv"), "--cv", "7", "--test", str(train))


def test_cross_validation_refuses_an_unknown_model_setting(tmp_path, db):
    train = tmp_path / "train.csv"
    write_m4(train, {f"H{i}": np.arange(100.0) for i in range(6)}, 100)
    with pytest.raises(CommandError, match="--model-settings"):
        call_command(
            "m4_forecast",
            str(train),
            str(tmp_path / "o.csv"),
            "--cv",
            "5",
            "--test",
            str(train),
            "--model-settings",
            "x",
        )
