"""Run the production forecaster (with its model selection) on every series of an M4-layout file.

`--cv K` cross-validates the forecaster's global tunables (the combination rule, see
`selection.Rule`, and the profile models' settings, evaluation/forecast_settings.py): every series
is forecast once under every setting and rule, the pair is chosen on K-1 folds of series and
scores the held-out fold; OUT_CSV then holds the held-out forecasts and the printed
(and recorded) figure is the cross-validated one, next to the in-sample one.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from forecasting.algorithms.forecast import DEFAULT_CANDIDATES, forecast
from forecasting.algorithms.forecast.registry import members
from forecasting.algorithms.forecast.variants import forecast_variants
from forecasting.evaluation import crossval, forecast_settings, m4
from forecasting.services.evaluation import evaluation_record


def forecast_one(job: tuple[str, np.ndarray, int, tuple[int, ...], tuple[str, ...]]) -> tuple[str, dict]:
    """{"production": the forecaster's Prediction} of one series."""
    key, y, horizon, seasons, candidates = job
    return key, {"production": forecast(y, horizon=horizon, season=seasons, candidates=candidates)}


def forecast_all_rules(job: tuple) -> tuple[str, dict]:
    """{"setting+rule": Prediction} of one series: per setting, every combination rule from one backtest."""
    key, y, horizon, seasons, candidates, settings = job
    out = {}
    for setting in settings:
        forecast_settings.use(setting)
        for rule, prediction in forecast_variants(y, horizon=horizon, season=seasons, candidates=candidates).items():
            out[f"{setting}+{rule}"] = prediction
    forecast_settings.use("production")
    return key, out


class Command(BaseCommand):
    help = "Forecast every series of an M4-layout CSV (header, then id and values) and write id + values rows."

    def add_arguments(self, parser) -> None:
        parser.add_argument("train_csv")
        parser.add_argument("out_csv")
        parser.add_argument("--horizon", type=int, default=48)
        parser.add_argument("--season", type=int, default=24, help="main seasonal period in steps")
        parser.add_argument(
            "--weekly",
            type=int,
            default=None,
            help="second (weekly) period in steps; default 7 × season when season is 24, 0 for none",
        )
        parser.add_argument("--test", help="M4-layout file of the actual future values: print sMAPE, MASE, OWA")
        parser.add_argument("--jobs", type=int, default=1, help="worker processes")
        default = ",".join(DEFAULT_CANDIDATES)
        parser.add_argument("--candidates", help=f"comma-separated model names (default: {default})")
        parser.add_argument("--json", action="store_true", help="print the scores as one JSON line")
        parser.add_argument(
            "--cv",
            type=int,
            default=0,
            metavar="K",
            help="cross-validate the combination rule over K >= 5 folds of series (needs --test); "
            "OUT_CSV gets the held-out forecasts",
        )
        parser.add_argument(
            "--model-settings",
            help="with --cv: comma-separated profile-model settings to choose from "
            f"(default all: {', '.join(forecast_settings.SETTINGS)})",
        )

    def handle(
        self,
        *args,
        train_csv,
        out_csv,
        horizon,
        season,
        weekly,
        test,
        jobs,
        candidates,
        json,
        cv,
        model_settings,
        **options,
    ):
        started = time.monotonic()
        self.quiet = options.get("verbosity", 1) == 0
        if weekly is None:
            weekly = 7 * season if season == 24 else 0
        seasons = tuple(s for s in (season, weekly) if s and s > 1)
        names = tuple(candidates.split(",")) if candidates else DEFAULT_CANDIDATES
        if cv and not test:
            raise CommandError("--cv needs --test (the held-out values to score)")
        if cv and cv < 5:
            raise CommandError("--cv: K must be at least 5")
        train = m4.load_m4(train_csv)
        if not train:
            raise CommandError(f"no series in {train_csv}")
        if cv and cv > len(train):
            raise CommandError(f"--cv: K must not exceed the number of series ({len(train)})")
        try:
            chosen = forecast_settings.parse(model_settings)
        except ValueError as error:
            raise CommandError(f"--model-settings: {error}") from error
        if cv:
            work = [(key, y, horizon, seasons, names, tuple(chosen)) for key, y in train.items()]
        else:
            work = [(key, y, horizon, seasons, names) for key, y in train.items()]
        predictions = self.run(forecast_all_rules if cv else forecast_one, work, jobs)
        if cv:
            self.cross_validate(train_csv, out_csv, m4.load_m4(test), train, predictions, season, cv, json, started)
            return
        results = {key: p["production"].mean for key, p in predictions.items()}
        models = Counter(p["production"].model for p in predictions.values())
        m4.write_forecasts(out_csv, results)
        self.stdout.write(f"wrote {len(results)} forecasts of {horizon} steps to {out_csv}")
        if test:
            actual = m4.load_m4(test)
            self.report(train, actual, results, season, models, json)
            evaluation_record(
                kind="m4",
                dataset=str(train_csv),
                series=len(results),
                scores={**self.scores, **interval_coverage(actual, predictions, "production")},
                details={"members": self.members, "horizon": horizon, "seasons": list(seasons)},
                duration_s=time.monotonic() - started,
            )

    def run(self, step, work: list, jobs: int) -> dict[str, dict]:
        """{series id: step's result} with a progress bar on stderr."""
        out = {}
        progress = tqdm(total=len(work), unit="series", disable=self.quiet, file=self.stderr._out)
        if jobs > 1:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for key, result in pool.map(step, work, chunksize=4):
                    out[key] = result
                    progress.update()
        else:
            for job in work:
                key, result = step(job)
                out[key] = result
                progress.update()
        progress.close()
        return out

    def cross_validate(self, train_csv, out_csv, actual, train, predictions, season, k, as_json, started) -> None:
        """Choose the rule on K-1 folds, forecast the held-out fold with it; print and record."""
        rules = list(next(iter(predictions.values())))
        variants = {rule: {key: p[rule].mean for key, p in predictions.items()} for rule in rules}
        result = crossval.m4_cross_validate(train, actual, variants, season=season, k=k)
        held = {key: predictions[key][rule] for key, rule in result["held_out"].items()}
        m4.write_forecasts(out_csv, {key: p.mean for key, p in held.items()})
        self.stdout.write(f"wrote {len(held)} held-out forecasts to {out_csv}")
        result["coverage"] = interval_coverage(actual, {key: {"cv": p} for key, p in held.items()}, "cv")
        cv, inside = result["cv"], result["all_trained"]
        if as_json:
            self.stdout.write(json.dumps({k: v for k, v in result.items() if k != "held_out"}))
        else:
            for fold in result["folds"]:
                self.stdout.write(
                    f"  fold {fold['fold']}: {fold['series']} series, {fold['variant']}, OWA {fold['owa']:.3f}"
                )
            self.stdout.write(
                f"cross-validated ({k} folds): sMAPE {cv['smape']:.3f}  MASE {cv['mase']:.3f}  OWA {cv['owa']:.3f}"
            )
            self.stdout.write(
                f"in-sample ({inside['variant']} chosen on all series): sMAPE {inside['smape']:.3f}  "
                f"MASE {inside['mase']:.3f}  OWA {inside['owa']:.3f}"
            )
            cover = result["coverage"]
            self.stdout.write(
                f"interval coverage: 80 % -> {cover['coverage80']:.1%}, 95 % -> {cover['coverage95']:.1%}"
            )
        evaluation_record(
            kind="m4_cv",
            dataset=str(train_csv),
            series=len(held),
            scores={**cv, **result["coverage"]},
            details={"folds": k, "in_sample": inside, "per_fold": result["folds"]},
            duration_s=time.monotonic() - started,
        )

    def report(self, train, actual, results, season, models, as_json) -> None:
        """Print (and keep for the record) the M4 scores and which models the winners use."""
        ids = [k for k in actual if k in train]
        score = m4.score(train, actual, results, season=season, ids=ids)
        used = Counter()
        for model, count in models.items():
            for member in members(model):
                used[member] += count
        self.scores = {k: round(v, 4) if isinstance(v, float) else v for k, v in score.as_dict().items()}
        self.members = dict(used.most_common())
        if as_json:
            self.stdout.write(json.dumps({**score.as_dict(), "members": dict(used.most_common())}))
            return
        self.stdout.write(
            f"sMAPE {score.smape:.3f}  MASE {score.mase:.3f}  OWA {score.owa:.3f}  "
            f"({score.series} series; Naive2 {score.naive2_smape:.3f} / {score.naive2_mase:.3f})"
        )
        self.stdout.write("series whose winning combination includes each model:")
        for model, count in used.most_common():
            self.stdout.write(f"  {count:4d}  {model}")


def interval_coverage(actual: dict, predictions: dict[str, dict], variant: str) -> dict[str, float]:
    """Share of the actual values inside the 80 % and 95 % intervals (every step of every series)."""
    keys = [key for key in actual if key in predictions]
    truth = {key: actual[key] for key in keys}
    out = {}
    for level in ("80", "95"):
        lower = {key: getattr(predictions[key][variant], f"lo{level}") for key in keys}
        upper = {key: getattr(predictions[key][variant], f"hi{level}") for key in keys}
        out[f"coverage{level}"] = round(crossval.coverage(truth, lower, upper), 4)
    return out
