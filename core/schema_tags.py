"""API docs grouped by product area instead of one "v1" heading: a drf-spectacular
postprocessing hook that tags every operation by its path, and describes each area with a link to
the page of the app that shows the same data."""

from __future__ import annotations

# (tag, path prefixes under /api/v1/, description with the matching page)
AREAS = [
    (
        "Metrics",
        ("ingest", "prom", "series", "query_range", "export/series"),
        "Send samples (JSON, Prometheus remote_write) and read series and ranges. Page: [Metrics](/).",
    ),
    (
        "Forecasting and anomalies",
        ("anomalies", "anomaly-feedback", "forecasting", "series/{uid}/forecast"),
        "Forecasts, anomalies and feedback on them. Pages: [Anomalies](/anomalies/), [Models](/forecasting/models/).",
    ),
    (
        "Alerts and rules",
        ("alerts", "rules", "silences", "services", "integrations", "export/alerts.csv"),
        "Alert rules, alerts, silences, services and intake integrations. Page: [Console](/console/).",
    ),
    (
        "Incidents",
        ("incidents", "export/incidents.csv"),
        "Incidents, their timeline and actions. Page: [Console](/console/).",
    ),
    (
        "Paging and on-call",
        ("escalation-policies", "escalation-routes", "rotations", "notifications"),
        "Escalation, rotations and notifications. Page: [On call](/oncall/).",
    ),
    (
        "SLOs and SLAs",
        ("slos", "slas"),
        "Objectives, error budgets and SLAs. Pages: [SLOs](/slos/), [SLA report](/slos/reports/).",
    ),
    ("Capacity", ("capacity",), "Resources, analyses and what-if scenarios. Page: [Capacity](/capacity/)."),
    (
        "Business and insight",
        ("bi", "analysis", "changes", "quality"),
        "Executive summary, correlations, change events and paging quality. Pages: [Business](/business/), "
        "[Quality](/quality/).",
    ),
    ("Recommendations", ("recommendations",), "What to change next. Page: [Recommendations](/recommendations/)."),
    ("Teams and audit", ("audit",), "The audit log of your teams. Teams and tokens: [admin](/admin/)."),
]
OTHER = "Other"


def area_of(path: str) -> str:
    rest = path.split("/api/v1/", 1)[-1]
    best, length = OTHER, -1
    for tag, prefixes, _ in AREAS:
        for prefix in prefixes:
            literal = rest == prefix or rest.startswith(prefix + "/")
            if (literal or ("{" in prefix and _matches(rest, prefix))) and len(prefix) > length:
                best, length = tag, len(prefix)
    return best


def _matches(rest: str, pattern: str) -> bool:
    parts, want = rest.split("/"), pattern.split("/")
    return len(parts) == len(want) and all(w.startswith("{") or w == p for p, w in zip(parts, want, strict=True))


def tag_by_area(result, generator, request, public):
    """Postprocessing hook: every operation gets its area's tag; areas listed in product order."""
    used = set()
    for path, operations in result.get("paths", {}).items():
        tag = area_of(path)
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["tags"] = [tag]
                used.add(tag)
    result["tags"] = [{"name": t, "description": d} for t, _, d in AREAS if t in used]
    if OTHER in used:
        result["tags"].append({"name": OTHER, "description": ""})
    return result
