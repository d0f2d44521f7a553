"""Run the production forecaster (with its model selection) on every series of an M4-layout file."""

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
from forecasting.evaluation import m4
from forecasting.services.evaluation import evaluation_record


def forecast_one(job: tuple[str, np.ndarray, int, tuple[int, ...], tuple[str, ...]]) -> tuple[str, np.ndarray, str]:
    key, y, horizon, seasons, candidates = job
    prediction = forecast(y, horizon=horizon, season=seasons, candidates=candidates)
    return key, prediction.mean, prediction.model


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

    def handle(self, *args, train_csv, out_csv, horizon, season, weekly, test, jobs, candidates, json, **options):
        started = time.monotonic()
        if weekly is None:
            weekly = 7 * season if season == 24 else 0
        seasons = tuple(s for s in (season, weekly) if s and s > 1)
        names = tuple(candidates.split(",")) if candidates else DEFAULT_CANDIDATES
        train = m4.load_m4(train_csv)
        if not train:
            raise CommandError(f"no series in {train_csv}")
        work = [(key, y, horizon, seasons, names) for key, y in train.items()]
        results = {}
        models = Counter()
        progress = tqdm(total=len(work), unit="series", disable=None, file=self.stderr._out)
        if jobs > 1:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for key, mean, model in pool.map(forecast_one, work, chunksize=4):
                    results[key], models[model] = mean, models[model] + 1
                    progress.update()
        else:
            for job in work:
                key, mean, model = forecast_one(job)
                results[key], models[model] = mean, models[model] + 1
                progress.update()
        progress.close()
        m4.write_forecasts(out_csv, results)
        self.stdout.write(f"wrote {len(results)} forecasts of {horizon} steps to {out_csv}")
        if test:
            self.report(train, m4.load_m4(test), results, season, models, json)
            evaluation_record(
                kind="m4",
                dataset=str(train_csv),
                series=len(results),
                scores=self.scores,
                details={"members": self.members, "horizon": horizon, "seasons": list(seasons)},
                duration_s=time.monotonic() - started,
            )

    def report(self, train, actual, results, season, models, as_json) -> None:
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
