from __future__ import annotations

import os
from datetime import timedelta as td
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from alerts.models import AlertRule, EscalationLevel, EscalationPolicy, EscalationRoute, Service
from hive_ops.teams.models import ApiToken
from hive_ops.teams.services import api_token_create, membership_ensure, team_get_or_create

DEMO_TOKEN_NAME = "demo data generator"  # noqa: S105


class Command(BaseCommand):
    help = "Create the demo team, the admin user and a token for the demo data generator (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")
        parser.add_argument("--username", default=os.environ.get("HIVEOPS_DEMO_USER", "admin"))
        parser.add_argument("--password", default=os.environ.get("HIVEOPS_DEMO_PASSWORD", "hiveops"))

    def handle(self, *args, url: str, username: str, password: str, **options) -> None:
        team, _ = team_get_or_create(slug="demo", name="Demo")
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        login = f"{username} / {password}"
        if user is None:
            user = User.objects.create_superuser(username=username, email="", password=password)
        elif not user.check_password(password):
            login = f"{username} (existing user, password unchanged)"
        membership_ensure(team=team, user=user)
        # A fresh generator token each start; the previous ones are revoked.
        ApiToken.objects.filter(team=team, name=DEMO_TOKEN_NAME, revoked_at=None).update(revoked_at=timezone.now())
        _, raw = api_token_create(team=team, name=DEMO_TOKEN_NAME, scopes=["ingest", "read"])
        self._alerting(team, user)
        token_file = Path(settings.RUN_DIR) / "demo_token"
        token_file.parent.mkdir(parents=True, exist_ok=True)
        token_file.write_text(raw)
        token_file.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(f"\n  HiveOps is starting at {url}\n  Log in as {login} (admin at {url}admin/)\n")
        )

    def _alerting(self, team, user) -> None:
        """Services, rules and an escalation policy so the demo's incidents become alerts."""
        tiers = {"checkout": (1, 450), "payments": (1, 900), "search": (2, 120)}
        for slug, (tier, revenue) in tiers.items():
            Service.objects.get_or_create(
                team=team,
                slug=slug,
                defaults={"name": slug.title(), "criticality": tier, "revenue_per_minute": revenue},
            )
        rules = [
            {
                "name": "High latency",
                "metric": "http_latency_p95",
                "aggregation": "avg",
                "window": td(minutes=3),
                "critical_threshold": 400.0,
                "warning_threshold": 250.0,
                "recovery_threshold": 200.0,
                "summary_template": "p95 latency of {{ labels.service }} is {{ value }} ms",
            },
            {
                "name": "Error burst",
                "metric": "http_errors",
                "aggregation": "avg",
                "window": td(minutes=3),
                "critical_threshold": 10.0,
                "severity": "high",
                "summary_template": "{{ labels.service }} errors at {{ value }}/s",
            },
            {
                "name": "CPU saturated",
                "metric": "cpu_usage",
                "aggregation": "avg",
                "window": td(minutes=5),
                "critical_threshold": 90.0,
                "warning_threshold": 80.0,
                "for_duration": td(minutes=2),
                "summary_template": "CPU of {{ labels.service }}/{{ labels.host }} at {{ value }}%",
            },
            {
                "name": "Latency anomaly",
                "metric": "http_latency_p95",
                "kind": "anomaly",
                "window": td(minutes=5),
                "params": {"points": 2},
                "severity": "medium",
            },
            {
                "name": "Disk will fill",
                "metric": "disk_used",
                "kind": "forecast_breach",
                "comparator": "gt",
                "critical_threshold": 80.0,
                "params": {"horizon_minutes": 240, "probability": 0.8},
                "severity": "high",
            },
            {
                "name": "No traffic data",
                "metric": "http_requests",
                "kind": "absence",
                "absence_after": td(minutes=10),
                "summary_template": "no request metrics from {{ labels.service }}",
            },
        ]
        for rule in rules:
            AlertRule.objects.get_or_create(team=team, name=rule.pop("name"), defaults=rule)
        policy, created = EscalationPolicy.objects.get_or_create(team=team, name="Demo on-call", defaults={"repeat": 1})
        if created:
            level = EscalationLevel.objects.create(policy=policy, position=1, wait=td(minutes=5))
            level.users.add(user)
            EscalationRoute.objects.create(team=team, policy=policy, is_default=True)
