"""The model card's benchmark tables: HiveOps' cross-validated, all-trained and latest-run figures
next to the published anchors, as rows a person can compare at a glance.

Why a table of sources rather than one figure: a score on the files the settings were tuned on
overstates what a user gets; the cross-validated row is the honest one, the all-trained row shows
the optimism, the anchors show where that sits in the field. Anchors are the published full-corpus
figures (NAB v1.1 scoreboard; M4 Hourly results), fixed facts, not measurements of this code.
"""

from __future__ import annotations

from forecasting.models import EvaluationRun

NAB_COLUMNS = ("standard", "low_fp", "low_fn")
NAB_ANCHORS = (
    ("ARTime", (74.85, 65.15, 80.36)),
    ("Numenta HTM", (70.10, 63.12, 74.32)),
    ("CAD OSE", (69.90, 66.98, 73.18)),
    ("NumentaTM", (64.55, None, None)),
    ("KNN CAD", (57.99, None, None)),
)
M4_COLUMNS = ("smape", "mase", "owa")
M4_ANCHORS = (
    ("Best entry (Doornik et al.)", (8.913, 0.801, 0.410)),
    ("ES-RNN (Smyl)", (9.328, 0.893, 0.440)),
    ("FFORMA", (11.506, 0.819, 0.484)),
    ("Seasonal naive", (13.912, 1.193, 0.627)),
)
NAB_FULL_FILES = 58
M4_FULL_SERIES = 414


def _nab_scores(scores: dict) -> tuple:
    """Standard / low FP / low FN from either the short names or NAB's long profile names."""
    long_names = {"low_fp": "reward_low_FP_rate", "low_fn": "reward_low_FN_rate"}
    out = []
    for key in NAB_COLUMNS:
        value = scores.get(key, scores.get(long_names.get(key, key)))
        out.append(value.get("score") if isinstance(value, dict) else value)
    return tuple(_fixed(v, 2) for v in out)


def _scope(run: EvaluationRun, full: int, unit: str) -> str:
    if run.series >= full:
        return f"full corpus, {run.series} {unit}"
    return f"{run.series} {unit}"


def nab_table(cv: EvaluationRun | None, latest: EvaluationRun | None) -> dict:
    """Rows (label, note, figures) for the NAB card and the headline (the most honest figure)."""
    rows = []
    if cv is not None:
        trained = cv.details.get("all_trained", {})
        scope = _scope(cv, NAB_FULL_FILES, "files")
        rows.append(("HiveOps, cross-validated", f"leave one category out, {scope}", _nab_scores(cv.scores), True))
        rows.append(("HiveOps, tuned on all", f"same files, {scope}", _nab_scores(trained), True))
    if latest is not None:
        rows.append(("HiveOps, latest run", _scope(latest, NAB_FULL_FILES, "files"), _nab_scores(latest.scores), True))
    rows += [
        (name, "published, full corpus", tuple(_fixed(v, 2) for v in figures), False) for name, figures in NAB_ANCHORS
    ]
    source = cv or latest
    headline = _nab_scores(source.scores)[0] if source is not None else None
    return {"rows": rows, "headline": headline, "cross_validated": cv is not None}


def m4_table(cv: EvaluationRun | None, latest: EvaluationRun | None) -> dict:
    """Rows (label, note, figures) for the M4 card, the headline OWA and the interval coverage."""
    rows = []
    coverage = None
    if cv is not None:
        inside = cv.details.get("in_sample", {})
        scope = _scope(cv, M4_FULL_SERIES, "series")
        folds = cv.details.get("folds", "k")
        rows.append(("HiveOps, cross-validated", f"{folds} folds of series, {scope}", _m4(cv.scores), True))
        rows.append(("HiveOps, tuned on all", f"same series, {scope}", _m4(inside), True))
        coverage = _percent(cv.scores.get("coverage80")), _percent(cv.scores.get("coverage95"))
    if latest is not None:
        rows.append(("HiveOps, latest run", _scope(latest, M4_FULL_SERIES, "series"), _m4(latest.scores), True))
        if coverage is None and "coverage80" in latest.scores:
            coverage = _percent(latest.scores.get("coverage80")), _percent(latest.scores.get("coverage95"))
    rows += [
        (name, "published, 414 series", tuple(_fixed(v, 3) for v in figures), False) for name, figures in M4_ANCHORS
    ]
    source = cv or latest
    headline = _fixed(source.scores.get("owa"), 3) if source is not None else None
    return {"rows": rows, "headline": headline, "coverage": coverage, "cross_validated": cv is not None}


def _m4(scores: dict) -> tuple:
    return tuple(_fixed(scores.get(key), 3) for key in M4_COLUMNS)


def _fixed(value, places: int) -> str | None:
    """A figure as people read it in a table: fixed decimals, None stays None."""
    return None if value is None else f"{float(value):.{places}f}"


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.1f} %"
