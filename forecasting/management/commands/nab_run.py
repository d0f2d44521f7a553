from __future__ import annotations

import time
from functools import partial
from multiprocessing import Pool
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from forecasting.evaluation import nab
from forecasting.services.evaluation import evaluation_record


class Command(BaseCommand):
    help = (
        "Stream every DATA_DIR/<category>/<name>.csv through the production anomaly detector and write "
        "OUT_DIR/<category>/<name>.csv (timestamp,value,anomaly_score); with --labels, print NAB scores "
        "(overall and per category) and record them for the model card."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("data_dir")
        parser.add_argument("out_dir")
        parser.add_argument("--labels", help="combined_windows.json: print the three NAB profile scores")
        parser.add_argument("--workers", type=int, default=2, help="processes across files (default 2)")

    def handle(self, *args, data_dir: str, out_dir: str, labels: str | None, workers: int, **opts):
        started = time.monotonic()
        files = nab.corpus_files(data_dir)
        if not files:
            raise CommandError(f"no <category>/<name>.csv files under {data_dir}")
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        job = partial(nab.run_file, data_dir, out_dir=out_dir)
        results = {}
        progress = tqdm(total=len(files), desc="nab_run", unit="file", disable=opts.get("verbosity", 1) == 0)
        if workers > 1:
            with Pool(workers) as pool:
                for rel, stamps, scores in pool.imap_unordered(job, files):
                    results[rel] = (stamps, scores)
                    progress.update()
        else:
            for rel in files:
                results[rel] = job(rel)[1:]
                progress.update()
        progress.close()
        self.stdout.write(f"wrote {len(results)} files to {out_dir}")
        if labels:
            self.report(data_dir, labels, results, started)

    def report(self, data_dir: str, labels: str, results: dict, started: float) -> None:
        windows = nab.load_windows(labels)
        scored = {rel: (stamps, scores, windows.get(rel, [])) for rel, (stamps, scores) in results.items()}
        overall = nab.corpus_score(scored)
        for profile, result in overall.items():
            self.stdout.write(f"{profile:20s} {result['score']:7.2f}  (threshold {result['threshold']:.6g})")
        thresholds = {profile: result["threshold"] for profile, result in overall.items()}
        categories = nab.category_scores(scored, thresholds)
        for category, entry in categories.items():
            figures = "  ".join(f"{k} {'-' if v is None else v}" for k, v in entry.items())
            self.stdout.write(f"  {category:28s} {figures}")
        evaluation_record(
            kind="nab",
            dataset=str(data_dir),
            series=len(results),
            scores={nab.SHORT_NAMES[p]: result["score"] for p, result in overall.items()},
            details={
                "categories": categories,
                "thresholds": {nab.SHORT_NAMES[p]: round(t, 6) for p, t in thresholds.items()},
            },
            duration_s=time.monotonic() - started,
        )
