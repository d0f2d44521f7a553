"""Stream a NAB-layout corpus through the production detector; `--cv` for the honest figure.

`--cv` (needs --labels) runs every detector variant (evaluation/detector_variants.py) over every
file, then leaves one category out at a time: the variant and each profile's threshold are chosen
on the other categories and the held-out category is scored with them. OUT_DIR gets each file's
scores from the variant chosen without its category; the printed and recorded figure is the
cross-validated one, next to the all-trained one (variant and thresholds chosen on every file).
"""

from __future__ import annotations

import time
from functools import partial
from multiprocessing import Pool
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from forecasting.evaluation import crossval, detector_variants, nab
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
        parser.add_argument(
            "--cv", action="store_true", help="leave-one-category-out cross-validation (needs --labels)"
        )
        parser.add_argument(
            "--variants",
            help="with --cv: comma-separated detector variants to choose from, or all "
            f"(default {','.join(detector_variants.DEFAULT_CV)}; known: {', '.join(detector_variants.VARIANTS)})",
        )

    def handle(self, *args, data_dir: str, out_dir: str, labels: str | None, workers: int, **opts):
        started = time.monotonic()
        files = nab.corpus_files(data_dir)
        if not files:
            raise CommandError(f"no <category>/<name>.csv files under {data_dir}")
        if opts.get("cv"):
            if not labels:
                raise CommandError("--cv needs --labels (the windows to score)")
            try:
                names = detector_variants.parse(opts.get("variants"))
            except ValueError as error:
                raise CommandError(f"--variants: {error}") from error
            self.cross_validate(data_dir, out_dir, labels, files, names, workers, opts, started)
            return
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

    def cross_validate(self, data_dir, out_dir, labels, files, names, workers, opts, started) -> None:
        """Run every variant over every file, choose per held-out category, print and record."""
        windows = nab.load_windows(labels)
        jobs = [(data_dir, name, rel) for name in names for rel in files]
        runs: dict[str, dict] = {name: {} for name in names}
        values: dict[str, object] = {}
        quiet = opts.get("verbosity", 1) == 0
        progress = tqdm(total=len(jobs), desc="nab_run --cv", unit="file", disable=quiet)
        with Pool(max(1, workers)) as pool:
            for name, rel, stamps, vals, scores in pool.imap_unordered(detector_variants.score_file, jobs):
                runs[name][rel] = (stamps, scores, windows.get(rel, []))
                values[rel] = vals
                progress.update()
        progress.close()
        result = crossval.nab_cross_validate(runs)
        chosen = {fold["held_out"]: fold["variant"] for fold in result["folds"]}
        for rel in files:
            stamps, scores, _ = runs[chosen[crossval.category_of(rel)]][rel]
            nab.write_scores(out_dir, rel, stamps, values[rel], scores)
        self.stdout.write(f"wrote {len(files)} files of held-out scores to {out_dir}")
        for fold in result["folds"]:
            figures = "  ".join(f"{k} {'-' if v is None else v}" for k, v in fold["scores"].items())
            self.stdout.write(
                f"  held out {fold['held_out']:24s} variant {fold['variant']:12s} {figures}  "
                f"false_positives {fold['false_positives']}  (standard threshold {fold['thresholds']['standard']})"
            )
        cv, trained = result["cv"], result["all_trained"]
        self.stdout.write("cross-validated: " + "  ".join(f"{k} {v:.2f}" for k, v in cv.items()))
        self.stdout.write(
            f"all-trained (variant {trained['variant']}): " + "  ".join(f"{k} {trained[k]:.2f}" for k in cv)
        )
        evaluation_record(
            kind="nab_cv",
            dataset=str(data_dir),
            series=len(files),
            scores=cv,
            details={"all_trained": trained, "folds": result["folds"], "variants": names},
            duration_s=time.monotonic() - started,
        )
