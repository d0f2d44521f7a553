"""Run by test_concurrency as several separate processes: raise the same breach at the same moment.

argv: integration_id start_at repeats
"""

from __future__ import annotations

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hive_ops.settings")
django.setup()

from alerts.models import Integration  # noqa: E402
from alerts.services.intake import alertmanager_receive  # noqa: E402

PAYLOAD = {
    "version": "4",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "DiskWillFill", "service": "storage", "instance": "db-1"},
            "annotations": {"summary": "disk filling"},
        },
        {
            "status": "firing",
            "labels": {"alertname": "DiskWillFill", "service": "storage", "instance": "db-2"},
            "annotations": {"summary": "disk filling"},
        },
    ],
}


def main() -> None:
    integration_id, start_at, repeats = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    integration = Integration.objects.select_related("team", "service").get(pk=integration_id)
    time.sleep(max(0.0, start_at - time.time()))
    for _ in range(repeats):
        alertmanager_receive(integration=integration, payload=PAYLOAD)
    print("ok")


if __name__ == "__main__":
    main()
