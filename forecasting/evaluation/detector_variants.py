"""Settings of the streaming detector that `nab_run --cv` chooses between on training categories.

Each variant overrides a few of the module constants of `forecasting.algorithms.detection.detector`
(the production values are variant "production"). The cross-validation runs every variant over
every file once, then per held-out category keeps the variant (and the thresholds) that score best
on the other categories; see evaluation/crossval.py. The table in docs/forecasting.md lists the
ranges.

`use(name)` sets the constants in the current process (a worker of the NAB run) and restores the
production value of every constant that the variant does not name, so variants never leak into
each other. Production code never calls it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from forecasting.algorithms.detection import detector
from forecasting.evaluation import nab

VARIANTS: dict[str, dict[str, object]] = {
    "production": {},
    "rest50": {"REST": 50, "EXTEND": 25},
    "rest200": {"REST": 200, "EXTEND": 100},
    "context0.3": {"W_CONTEXT": 0.3},
    "context0.9": {"W_CONTEXT": 0.9},
    "tail-low": {"TAIL_LO": 1.5, "TAIL_HI": 2.8},
    "tail-high": {"TAIL_LO": 2.5, "TAIL_HI": 3.8},
    "direct0.7": {"DIRECT": 0.7},
    "direct0.5": {"DIRECT": 0.5},
    "likelihood-only": {"DIRECT": 0.0},
    "damp0.2": {"REST_DAMP": 0.2},
    "likelihood16": {"LIK_SHORT": 16},
    "range0.08": {"RANGE_MARGIN": 0.08},
    "range0.1": {"RANGE_MARGIN": 0.1},
    "range-off": {"RANGE_MARGIN": 0.0},
    "range-rests": {"RANGE_ESCALATES": False},
    "extend0": {"EXTEND": 0},
    "fire0.5": {"FIRE": 0.5},
    "discord0.3": {"DISCORD_WEIGHT": 0.3},
    "discord0.5": {"DISCORD_WEIGHT": 0.5},
    "discord0.8": {"DISCORD_WEIGHT": 0.8},
    "discord0.5-every2": {"DISCORD_WEIGHT": 0.5, "DISCORD_EVERY": 2},
    "discord0.5-every4": {"DISCORD_WEIGHT": 0.5, "DISCORD_EVERY": 4},
}
# What `nab_run --cv` tries unless --variants says otherwise: the grid that keeps a full-corpus run
# under 30 minutes on two shared cores: the range margin, the episode extension and the firing
# level and whether a range anomaly escalates through a rest (the constants the range component
# brought in), against range-off (the detector without it). The discord variants (the shape-discord
# component, discord.py) are not in it: production cannot afford the component (docs/forecasting.md,
# "What was tried"), so a fold choosing one would describe a detector nobody runs.
DEFAULT_CV = ("production", "range0.08", "range0.1", "range-off", "range-rests", "extend0", "fire0.5")
_TUNABLES = sorted({name for settings in VARIANTS.values() for name in settings})
PRODUCTION = {name: getattr(detector, name) for name in _TUNABLES}


def use(name: str) -> None:
    """Make the detector in this process run with variant `name`."""
    settings = {**PRODUCTION, **VARIANTS[name]}
    for key, value in settings.items():
        setattr(detector, key, value)


def parse(names: str | None) -> list[str]:
    """The variants named in a comma-separated list (DEFAULT_CV when None, every one for "all");
    ValueError for an unknown one."""
    if names == "all":
        return list(VARIANTS)
    chosen = list(DEFAULT_CV) if not names else [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown detector variants {unknown}; known: {', '.join(VARIANTS)}")
    return chosen


def score_file(job: tuple[str, str, str]) -> tuple[str, str, list[str], np.ndarray, np.ndarray]:
    """(variant, rel, timestamps, values, scores) of one corpus file under one variant (a pool
    worker's job)."""
    data_dir, variant, rel = job
    use(variant)
    stamps, unix, values = nab.read_series_csv(Path(data_dir) / rel)
    return variant, rel, stamps, values, nab.detect_series(unix, values)
