from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from forecasting.models import EvaluationRun


def write_series(path, stamps, values) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        handle.write("timestamp,value\n")
        for stamp, value in zip(stamps, values, strict=True):
            handle.write(f"{stamp},{value}\n")


def make_corpus(root):
    rng = np.random.default_rng(3)
    base = np.datetime64("2020-01-01T00:00:00")
    stamps = [str(base + np.timedelta64(300 * i, "s")).replace("T", " ") for i in range(400)]
    spiky = 10 + rng.normal(0, 1, 400)
    spiky[300] += 25
    write_series(root / "data" / "synthetic" / "spiky.csv", stamps, spiky)
    repeated = [*stamps[:200], stamps[199], *stamps[200:349]]  # one repeated timestamp
    write_series(root / "data" / "other" / "flat.csv", repeated, [5.0] * 350)
    windows = {"synthetic/spiky.csv": [[stamps[290] + ".000000", stamps[320] + ".000000"]], "other/flat.csv": []}
    (root / "windows.json").write_text(json.dumps(windows))
    return {"synthetic/spiky.csv": (stamps, spiky), "other/flat.csv": (repeated, [5.0] * 350)}


def test_it_writes_one_scored_row_per_input_row_in_order_and_prints_and_records_nab_scores(db, tmp_path):
    corpus = make_corpus(tmp_path)
    out = io.StringIO()
    call_command(
        "nab_run",
        str(tmp_path / "data"),
        str(tmp_path / "out"),
        "--labels",
        str(tmp_path / "windows.json"),
        "--workers",
        "1",
        verbosity=0,
        stdout=out,
    )
    for rel, (stamps, values) in corpus.items():
        with open(tmp_path / "out" / rel) as handle:
            rows = list(csv.DictReader(handle))
        assert [r["timestamp"] for r in rows] == stamps
        assert np.allclose([float(r["value"]) for r in rows], values)
        scores = np.array([float(r["anomaly_score"]) for r in rows])
        assert np.all((scores >= 0) & (scores <= 1))
    spiky = np.loadtxt(tmp_path / "out" / "synthetic" / "spiky.csv", delimiter=",", skiprows=1, usecols=2)
    assert spiky.argmax() == 300
    text = out.getvalue()
    assert "wrote 2 files" in text
    # The spike is detected at the row it happens and nothing else fires: a perfect-ish score.
    standard = next(line for line in text.splitlines() if line.startswith("standard"))
    assert float(standard.split()[1]) > 80
    assert "synthetic" in text  # per-category lines
    run = EvaluationRun.objects.get()  # kept for the model card
    assert run.kind == "nab"
    assert run.dataset == str(tmp_path / "data")
    assert run.series == 2
    assert set(run.scores) == {"standard", "low_fp", "low_fn"}
    assert run.scores["standard"] == float(standard.split()[1])
    assert run.details["categories"]["synthetic"]["standard"] == run.scores["standard"]
    assert run.details["categories"]["other"]["standard"] is None  # no windows there
    assert run.details["categories"]["other"]["false_positives"] == 0
    assert 0 < run.details["thresholds"]["standard"] <= 1
    assert run.duration_s > 0


def test_two_workers_give_the_same_output(db, tmp_path):
    make_corpus(tmp_path)
    for workers, target in (("1", "one"), ("2", "two")):
        call_command(
            "nab_run",
            str(tmp_path / "data"),
            str(tmp_path / target),
            "--workers",
            workers,
            verbosity=0,
            stdout=io.StringIO(),
        )
    for rel in ("synthetic/spiky.csv", "other/flat.csv"):
        assert (tmp_path / "one" / rel).read_text() == (tmp_path / "two" / rel).read_text()
    assert not EvaluationRun.objects.exists()  # nothing to record without labels


def test_cross_validation_scores_each_category_with_settings_chosen_on_the_others(db, tmp_path):
    corpus = make_corpus(tmp_path)
    out = io.StringIO()
    call_command(
        "nab_run",
        str(tmp_path / "data"),
        str(tmp_path / "out"),
        "--labels",
        str(tmp_path / "windows.json"),
        "--workers",
        "1",
        "--cv",
        "--variants",
        "production,rest50",
        verbosity=0,
        stdout=out,
    )
    for rel, (stamps, _) in corpus.items():
        with open(tmp_path / "out" / rel) as handle:
            assert [r["timestamp"] for r in csv.DictReader(handle)] == stamps
    text = out.getvalue()
    for part in ("held out synthetic", "held out other", "cross-validated: standard", "all-trained (variant"):
        assert part in text
    run = EvaluationRun.objects.get()
    assert run.kind == "nab_cv"
    assert set(run.scores) == {"standard", "low_fp", "low_fn"}
    assert run.details["variants"] == ["production", "rest50"]
    assert {fold["held_out"] for fold in run.details["folds"]} == {"synthetic", "other"}
    # Trained on a file without windows the threshold stays above every score: the spike is missed.
    assert run.scores["standard"] <= run.details["all_trained"]["standard"]


def test_cross_validation_refuses_unknown_variants_and_missing_labels(db, tmp_path):
    make_corpus(tmp_path)
    data, target = str(tmp_path / "data"), str(tmp_path / "out")
    with pytest.raises(CommandError, match="--labels"):
        call_command("nab_run", data, target, "--cv", verbosity=0)
    with pytest.raises(CommandError, match="--variants"):
        call_command("nab_run", data, target, "--cv", "--labels", str(tmp_path / "windows.json"), "--variants", "nope")
