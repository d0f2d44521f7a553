"""The same breach arriving at once from several processes makes one alert and one incident."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from alerts.models import Alert, Incident
from alerts.services.integrations import integration_create
from tests.alerts.factories import service

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4
REPEATS = 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_processes_raise_one_alert_per_fingerprint(team):
    service(team, slug="storage")
    integration, _ = integration_create(team=team, kind="alertmanager", name="am")
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "PYTHONPATH": str(ROOT),
    }
    start_at = time.time() + 3  # every process is imported and waiting by then
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("concurrent_raise.py")),
                str(integration.id),
                str(start_at),
                str(REPEATS),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * PROCESSES, [err[-2000:] for _, err in outputs]
    alerts = list(Alert.objects.order_by("labels__instance"))
    assert len(alerts) == 2
    assert [a.occurrences for a in alerts] == [PROCESSES * REPEATS] * 2
    assert Incident.objects.count() == 1  # both grouped into the storage service's incident
    assert {a.incident_id for a in alerts} == {Incident.objects.get().pk}
