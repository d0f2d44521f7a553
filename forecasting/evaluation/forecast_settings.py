"""Settings of the forecaster's profile models that `m4_forecast --cv` chooses between on training
folds of series, together with the combination rule.

Each setting overrides a few module constants of `forecasting.algorithms.forecast.profiles`
("production" overrides none). `use(name)` sets them in the current process (a worker of the run)
and restores the production value of every constant the setting does not name, so settings never
leak into each other. Production code never calls it. The ranges are in docs/forecasting.md.
"""

from __future__ import annotations

from forecasting.algorithms.forecast import profiles

SETTINGS: dict[str, dict[str, object]] = {
    "production": {},
    "decay0.3": {"DECAY": 0.3},
    "decay0.6": {"DECAY": 0.6},
    "decay0.75": {"DECAY": 0.75},
    "decay0.9": {"DECAY": 0.9},
    "cycles7": {"CYCLES": 7},
    "cycles28": {"CYCLES": 28},
    "shrink1": {"WEEKLY_SHRINK": 1.0},
    "damping0.9": {"DAMPING": 0.9},
}
_TUNABLES = sorted({name for settings in SETTINGS.values() for name in settings})
PRODUCTION = {name: getattr(profiles, name) for name in _TUNABLES}


def use(name: str) -> None:
    """Make the profile models in this process run with setting `name`."""
    for key, value in {**PRODUCTION, **SETTINGS[name]}.items():
        setattr(profiles, key, value)


def parse(names: str | None) -> list[str]:
    """The settings named in a comma-separated list (all when None); ValueError for an unknown one."""
    chosen = list(SETTINGS) if not names else [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in SETTINGS]
    if unknown:
        raise ValueError(f"unknown forecaster settings {unknown}; known: {', '.join(SETTINGS)}")
    return chosen
