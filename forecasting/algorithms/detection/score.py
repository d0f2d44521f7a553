"""What the detector says about one point."""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("spike", "drop", "level_shift", "trend_change", "variance", "pattern")


@dataclass(slots=True)
class Score:
    """score: anomaly likelihood in [0, 1] (~0.5 unusual, >= 0.9 very likely anomalous);
    confidence: [0, 1], low while the detector is still learning; expected/lower/upper: the
    predicted value and its band; kind: None or one of KINDS; components: each sub-detector's
    score in [0, 1], for explanations."""

    score: float
    confidence: float
    expected: float
    lower: float
    upper: float
    kind: str | None = None
    components: dict[str, float] = field(default_factory=dict)
