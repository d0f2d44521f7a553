"""Synthetic incidents with a planted cause, for the goal-1 test and bench/rootcause.py. numpy only.

One case: a target A that breaches (a level shift up) at minute `t0`, a cause B whose level
shifts `lead` minutes earlier, and `unrelated` other series: random walks, seasonal noise
(a daily and a faster cycle) and, for `shift_share` of them (5 %), white noise with a level shift of the
same size as B's at a uniformly random minute of the whole day (so a few land in or near the
incident window by chance). Values are 1-minute samples over `minutes` ending 30 minutes after t0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Case:
    values: np.ndarray  # (2 + unrelated, minutes): row 0 is A (target), row 1 is B (cause)
    t0: int  # minute index of A's breach
    lead: int  # B moved this many minutes before t0
    kinds: list[str]  # per row: target, cause, walk, seasonal, shift


def make_case(
    seed: int,
    *,
    unrelated: int = 500,
    minutes: int = 1440,
    lead: int = 3,
    shift_share: float = 0.05,
    after: int = 30,
) -> Case:
    rng = np.random.default_rng(seed)
    t0 = minutes - after
    t = np.arange(minutes)
    rows, kinds = [], []

    noise = rng.uniform(0.5, 3.0)
    a = 100 + noise * rng.standard_normal(minutes) + 5 * noise * np.sin(2 * np.pi * t / 1440 + rng.uniform(0, 6.3))
    a[t0:] += rng.uniform(4, 8) * noise
    rows.append(a)
    kinds.append("target")

    rows.append(_shifted(rng, minutes, t0 - lead))
    kinds.append("cause")

    n_shift = round(unrelated * shift_share)
    n_walk = (unrelated - n_shift) // 2
    for i in range(unrelated):
        if i < n_shift:
            rows.append(_shifted(rng, minutes, int(rng.integers(0, minutes))))
            kinds.append("shift")
        elif i < n_shift + n_walk:
            rows.append(rng.uniform(10, 1000) + np.cumsum(rng.standard_normal(minutes) * rng.uniform(0.2, 2)))
            kinds.append("walk")
        else:
            level, amp, sd = rng.uniform(10, 1000), rng.uniform(1, 50), rng.uniform(0.5, 5)
            period = rng.uniform(20, 240)
            wave = amp * np.sin(2 * np.pi * t / 1440 + rng.uniform(0, 6.3))
            wave += amp / 3 * np.sin(2 * np.pi * t / period + rng.uniform(0, 6.3))
            rows.append(level + wave + sd * rng.standard_normal(minutes))
            kinds.append("seasonal")
    return Case(values=np.vstack(rows), t0=t0, lead=lead, kinds=kinds)


def _shifted(rng: np.random.Generator, minutes: int, at: int) -> np.ndarray:
    """White noise around a level, shifted by 3–6 standard deviations (either way) from `at`."""
    level, sd = rng.uniform(10, 1000), rng.uniform(0.5, 5)
    x = level + sd * rng.standard_normal(minutes)
    x[max(at, 0) :] += rng.choice([-1, 1]) * rng.uniform(3, 6) * sd
    return x
