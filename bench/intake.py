"""Alertmanager intake: how a large payload scales. One webhook of N alerts is stored in one
transaction (all-or-nothing); its cost per alert should not grow with N.

What it does (database hiveops_intakebench; never `hiveops` or a test database): a team
`intakebench` (recreated every run) with an Alertmanager integration and one service; then, for
each size in --sizes, a payload of that many distinct firing alerts (labels alertname, service,
n, run; all in the service's incident, the worst case for incident bookkeeping) is sent through
`alertmanager_receive` three times: new alerts, the same alerts again (an occurrence each), and
all resolved. Escalation steps are queued to a Redis database nobody consumes (--redis-url).

Baseline in the same run: the 1-alert payload. `per_alert_ratio` = (time per alert at size N) /
(time of the 1-alert payload): about 1 means linear; the old code grew with N (every alert
re-read every alert of its incident).

    .venv/bin/python bench/intake.py --json [--sizes 1,100,500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid

import orjson
from _common import ROOT, ensure_database, log, setup_django

DEFAULT_DATABASE_URL = "postgres://hiveops:hiveops@127.0.0.1:5432/hiveops_intakebench"


def payload(run: str, size: int, status: str) -> dict:
    alerts = [
        {
            "status": status,
            "labels": {"alertname": "IntakeBench", "service": "storage", "n": str(i), "run": run},
            "annotations": {"summary": f"bench alert {i}"},
            "startsAt": "2026-11-22T22:11:55.064Z",
            "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-22T22:20:00Z",
            "generatorURL": "http://prometheus.example/graph",
            "fingerprint": f"{i:016x}",
        }
        for i in range(size)
    ]
    return {"receiver": "hiveops", "status": status, "alerts": alerts, "version": "4", "groupKey": run}


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--sizes", default="1,100,500")
    args = parser.parse_args()
    os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = args.redis_url
    ensure_database(args.database_url)
    setup_django(args.database_url)
    from alerts.services.intake import alertmanager_receive
    from alerts.services.integrations import integration_create
    from catalog.models import Service
    from core.teams.models import Team
    from core.teams.services import team_get_or_create

    Team.objects.filter(slug="intakebench").delete()
    team = team_get_or_create(slug="intakebench", name="Intake bench")[0]
    Service.objects.create(team=team, name="Storage", slug="storage")
    integration = integration_create(team=team, kind="alertmanager", name="bench")[0]
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        run = uuid.uuid4().hex[:8]
        row = {"alerts": size}
        repeats = 7 if size == 1 else 1  # the baseline: median of several one-alert payloads
        samples: dict[str, list[float]] = {"new_s": [], "repeat_s": [], "resolve_s": []}
        for attempt in range(repeats):
            for phase, status in (("new_s", "firing"), ("repeat_s", "firing"), ("resolve_s", "resolved")):
                body = payload(f"{run}-{attempt}", size, status)
                samples[phase].append(
                    timed(lambda body=body: alertmanager_receive(integration=integration, payload=body))
                )
        for phase, values in samples.items():
            row[phase] = round(statistics.median(values), 4)
            log(f"{size} alerts, {phase}: {row[phase]} s")
        rows.append(row)
    base = rows[0]
    for row in rows:
        for phase in ("new_s", "repeat_s", "resolve_s"):
            per_alert = row[phase] / row["alerts"]
            row[phase.replace("_s", "_per_alert_ratio")] = round(per_alert / (base[phase] / base["alerts"]), 2)
    Team.objects.filter(slug="intakebench").delete()
    result = {"bench": "intake", "root": str(ROOT), "sizes": rows}
    print(orjson.dumps(result).decode() if args.json else orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
