"""Simulated services for the demo: daily and weekly seasonality, noise and occasional incidents.

Values are a pure function of (series, timestamp), so re-sending a range produces duplicates,
never conflicting values.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

SERVICES = {"checkout": 1.0, "search": 2.2, "payments": 0.6}
HOSTS = ("a", "b")
INCIDENT_EVERY_S = 36 * 3600  # on average one incident per service every 36 hours
INCIDENT_LENGTH_S = 20 * 60


@dataclass(frozen=True)
class DemoSeries:
    metric: str
    labels: dict[str, str]
    unit: str


def demo_series() -> list[DemoSeries]:
    out = []
    for service in SERVICES:
        for host in HOSTS:
            labels = {"service": service, "host": host}
            out += [
                DemoSeries("cpu_usage", labels, "percent"),
                DemoSeries("memory_used", labels, "percent"),
                DemoSeries("disk_used", labels, "percent"),
            ]
        labels = {"service": service}
        out += [
            DemoSeries("http_requests", labels, "req/s"),
            DemoSeries("http_errors", labels, "req/s"),
            DemoSeries("http_latency_p95", labels, "ms"),
        ]
    return out


def _noise(key: str, ts: int) -> float:
    """Deterministic noise in [-1, 1]."""
    digest = hashlib.blake2b(f"{key}:{ts}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**63 - 1.0


def in_incident(service: str, ts: int) -> bool:
    window = ts // INCIDENT_EVERY_S
    offset = int((_noise(f"incident:{service}", window) + 1) / 2 * (INCIDENT_EVERY_S - INCIDENT_LENGTH_S))
    start = window * INCIDENT_EVERY_S + offset
    return start <= ts < start + INCIDENT_LENGTH_S


def value(series: DemoSeries, ts: int) -> float:
    service = series.labels["service"]
    scale = SERVICES[service]
    day = math.sin(2 * math.pi * ((ts % 86400) / 86400 - 0.35))  # peak mid-afternoon UTC
    week = 0.75 if (ts // 86400 + 4) % 7 >= 5 else 1.0  # quieter weekends (epoch was a Thursday)
    load = (1 + 0.6 * day) * week
    incident = in_incident(service, ts)
    key = f"{series.metric}:{sorted(series.labels.items())}"
    noise = _noise(key, ts)
    if series.metric == "cpu_usage":
        v = 20 + 30 * load * scale**0.3 + 4 * noise + (35 if incident else 0)
    elif series.metric == "memory_used":
        v = 45 + 10 * load + 2 * noise + (15 if incident else 0)
    elif series.metric == "disk_used":
        v = 40 + (ts % (14 * 86400)) / (14 * 86400) * 45 + 0.3 * noise  # fills, then is cleaned up
    elif series.metric == "http_requests":
        v = 120 * scale * load * (1 + 0.08 * noise)
    elif series.metric == "http_errors":
        v = 0.4 * scale * load * (1 + 0.5 * noise) + (25 * scale if incident else 0)
    else:
        v = 80 + 40 * load + 8 * noise + (450 if incident else 0)
    return round(min(v, 100.0) if series.unit == "percent" else max(v, 0.0), 3)


def payload(series_list: list[DemoSeries], timestamps: list[int]) -> dict:
    return {
        "series": [
            {
                "metric": s.metric,
                "labels": s.labels,
                "unit": s.unit,
                "points": [[ts, value(s, ts)] for ts in timestamps],
            }
            for s in series_list
        ]
    }
