from __future__ import annotations

from functools import partial
from multiprocessing import Pool
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from forecasting.evaluation import nab


class Command(BaseCommand):
    help = (
        "Stream every DATA_DIR/<category>/<name>.csv through the production anomaly detector and write "
        "OUT_DIR/<category>/<name>.csv (timestamp,value,anomaly_score); with --labels, print NAB scores."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("data_dir")
        parser.add_argument("out_dir")
        parser.add_argument("--labels", help="combined_windows.json: print the three NAB profile scores")
        parser.add_argument("--workers", type=int, default=2, help="processes across files (default 2)")

    def handle(self, *args, data_dir: str, out_dir: str, labels: str | None, workers: int, **opts):
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
            windows = nab.load_windows(labels)
            scored = {rel: (stamps, scores, windows.get(rel, [])) for rel, (stamps, scores) in results.items()}
            for profile, result in nab.corpus_score(scored).items():
                self.stdout.write(f"{profile:20s} {result['score']:7.2f}  (threshold {result['threshold']:.6g})")
