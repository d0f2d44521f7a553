"""Cross-validation of the benchmark commands: every tunable is fixed on training folds only and
the figure reported is the held-out one.

Why: a score measured on the files the constants were tuned on overstates what a user gets on
their own series (the full NAB and M4 sets, measured separately, scored 5-10 NAB points and
0.03-0.07 OWA worse than the development subsets). Both protocols take the output of several
*variants* (settings of the production code, each run once over every file or series) and, per
fold, choose the variant (and, for NAB, the detection threshold) on the training part only.

- NAB: leave one category out (the folder of `<category>/<name>.csv`). The variant is chosen by
  the standard profile's best training score; each profile's threshold is the one that is best on
  the training categories. The held-out raw scores of all folds are summed and normalised over
  all windows, as NAB normalises one corpus.
- M4: k folds of series (a fixed shuffle of the ids), the variant with the lowest training OWA
  forecasts the held-out series; the held-out forecasts of all folds are scored together.

"All-trained" (in-sample) figures choose the same way on every file/series at once, so the gap
between the two is the optimism of tuning on what is scored. Pure numpy, no Django.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from forecasting.evaluation import m4, nab

NabFiles = Mapping[str, tuple[Sequence, Sequence[float], Iterable[tuple]]]


def category_of(rel: str) -> str:
    return rel.split("/")[0]


def nab_cross_validate(variants: Mapping[str, NabFiles]) -> dict:
    """Leave-one-category-out NAB scores of `variants` ({name: {rel: (stamps, scores, windows)}},
    every variant over the same files): {"cv", "all_trained", "folds"}."""
    names = list(variants)
    rels = sorted(next(iter(variants.values())))
    rows = {name: {rel: nab.file_rows(*variants[name][rel]) for rel in rels} for name in names}
    categories = sorted({category_of(rel) for rel in rels})
    total_windows = sum(r.n_windows for r in rows[names[0]].values())
    raw_sum = dict.fromkeys(nab.PROFILES, 0.0)
    folds = []
    for held in categories:
        train = [rel for rel in rels if category_of(rel) != held]
        test = [rel for rel in rels if category_of(rel) == held]
        name = _best_variant(rows, train, names)
        fold = {"held_out": held, "variant": name, "thresholds": {}, "scores": {}}
        held_rows = [rows[name][rel] for rel in test]
        held_windows = sum(r.n_windows for r in held_rows)
        for profile, weights in nab.PROFILES.items():
            _, threshold = nab.sweep([rows[name][rel] for rel in train], weights)
            raw, false_positives = nab.raw_at(held_rows, weights, threshold)
            raw_sum[profile] += raw
            short = nab.SHORT_NAMES[profile]
            fold["thresholds"][short] = round(threshold, 6)
            fold["scores"][short] = round(nab.normalised(raw, held_windows, weights), 2) if held_windows else None
            fold.setdefault("false_positives", false_positives)
        folds.append(fold)
    cv = {nab.SHORT_NAMES[p]: round(nab.normalised(raw_sum[p], total_windows, w), 2) for p, w in nab.PROFILES.items()}
    best = _best_variant(rows, rels, names)
    overall = nab.corpus_score(variants[best])
    all_trained = {nab.SHORT_NAMES[p]: overall[p]["score"] for p in nab.PROFILES}
    return {"cv": cv, "all_trained": {**all_trained, "variant": best}, "folds": folds}


def _best_variant(rows: Mapping[str, Mapping[str, nab.FileRows]], rels: list[str], names: list[str]) -> str:
    """The variant with the best standard-profile score on `rels` (the first one on a tie)."""
    standard = nab.PROFILES["standard"]
    best, best_raw = names[0], -np.inf
    for name in names:
        raw, _ = nab.sweep([rows[name][rel] for rel in rels], standard)
        if raw > best_raw + 1e-9:
            best, best_raw = name, raw
    return best


def m4_folds(ids: Sequence[str], k: int, seed: int = 0) -> list[list[str]]:
    """k folds of series ids: a fixed shuffle dealt round-robin (sizes differ by at most one)."""
    if k < 2 or k > len(ids):
        raise ValueError(f"k must be between 2 and the number of series ({len(ids)}), not {k}")
    order = [ids[i] for i in np.random.default_rng(seed).permutation(len(ids))]
    return [sorted(order[i::k]) for i in range(k)]


def coverage(
    actual: Mapping[str, np.ndarray], lower: Mapping[str, np.ndarray], upper: Mapping[str, np.ndarray]
) -> float:
    """Share of actual values inside [lower, upper], over every step of every series given."""
    inside = total = 0
    for key, y in actual.items():
        lo, hi = lower[key][: len(y)], upper[key][: len(y)]
        inside += int(np.sum((y >= lo) & (y <= hi)))
        total += len(y)
    return inside / total if total else float("nan")


def m4_cross_validate(
    train: Mapping[str, np.ndarray],
    test: Mapping[str, np.ndarray],
    variants: Mapping[str, Mapping[str, np.ndarray]],
    *,
    season: int,
    k: int = 5,
) -> dict:
    """k-fold-by-series M4 scores of `variants` ({name: {id: forecast}}): {"cv", "all_trained",
    "folds", "held_out"} where held_out maps each id to the variant that forecast it."""
    ids = [key for key in test if key in train]
    names = list(variants)
    owa = {name: _owa_fn(train, test, variants[name], season) for name in names}
    held_out: dict[str, str] = {}
    folds = []
    for number, fold in enumerate(m4_folds(ids, k)):
        inside = set(fold)
        training = [key for key in ids if key not in inside]
        name = min(names, key=lambda v: (owa[v](training), names.index(v)))
        scored = m4.score(train, test, variants[name], season=season, ids=fold)
        folds.append({"fold": number + 1, "series": len(fold), "variant": name, "owa": round(scored.owa, 4)})
        held_out.update(dict.fromkeys(fold, name))
    assembled = {key: variants[held_out[key]][key] for key in ids}
    cv = m4.score(train, test, assembled, season=season, ids=ids)
    best = min(names, key=lambda v: (owa[v](ids), names.index(v)))
    in_sample = m4.score(train, test, variants[best], season=season, ids=ids)
    return {
        "cv": cv.as_dict(),
        "all_trained": {**in_sample.as_dict(), "variant": best},
        "folds": folds,
        "held_out": held_out,
    }


def _owa_fn(train, test, forecasts, season):
    """OWA of one variant on any subset of series, from per-series errors computed once."""
    keys = [key for key in test if key in train]
    errors = {}
    for key in keys:
        y, f, bench = test[key], forecasts[key][: len(test[key])], m4.naive2(train[key], len(test[key]), season)
        errors[key] = (
            m4.smape(y, f),
            m4.mase(y, f, train[key], season),
            m4.smape(y, bench),
            m4.mase(y, bench, train[key], season),
        )

    def owa(subset: Sequence[str]) -> float:
        s, m, s2, m2 = np.mean([errors[key] for key in subset], axis=0)
        return 0.5 * (s / s2 + m / m2)

    return owa
