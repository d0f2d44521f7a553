from __future__ import annotations

import os
from datetime import timedelta as td
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from alerts.models import AlertRule
from catalog.models import Service
from core.teams.models import ApiToken
from core.teams.services import api_token_create, membership_ensure, team_get_or_create
from paging.models import ContactMethod, EscalationLevel, EscalationPolicy, EscalationRoute, NotificationRule

DEMO_TOKEN_NAME = "demo data generator"  # noqa: S105
DEMO_EMAIL = "admin@hiveops.localhost"  # .localhost never leaves the machine; the mail sink keeps it


class Command(BaseCommand):
    help = (
        "Create the demo team, the admin user (paged by email for every incident) and a token for the "
        "demo data generator (idempotent)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default=None, help="where HiveOps answers (default: HIVEOPS_BASE_URL)")
        parser.add_argument("--username", default=os.environ.get("HIVEOPS_DEMO_USER", "admin"))
        parser.add_argument("--password", default=os.environ.get("HIVEOPS_DEMO_PASSWORD", "hiveops"))
        parser.add_argument("--email", default=os.environ.get("HIVEOPS_DEMO_EMAIL", DEMO_EMAIL))

    def handle(self, *args, url: str | None, username: str, password: str, email: str, **options) -> None:
        url = (url or settings.HIVEOPS_BASE_URL).rstrip("/") + "/"
        team, _ = team_get_or_create(slug="demo", name="Demo")
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        login = f"{username} / {password}"
        if user is None:
            user = User.objects.create_superuser(username=username, email=email, password=password)
        elif not user.check_password(password):
            login = f"{username} (existing user, password unchanged)"
        membership_ensure(team=team, user=user)
        # A fresh generator token each start; the previous ones are revoked.
        ApiToken.objects.filter(team=team, name=DEMO_TOKEN_NAME, revoked_at=None).update(revoked_at=timezone.now())
        _, raw = api_token_create(team=team, name=DEMO_TOKEN_NAME, scopes=["ingest", "read"])
        self._alerting(team, user)
        self._contact(user, email)
        token_file = Path(settings.RUN_DIR) / "demo_token"
        token_file.parent.mkdir(parents=True, exist_ok=True)
        token_file.write_text(raw)
        token_file.chmod(0o600)
        mail = f"\n  Pages to {email} are kept at {url}mail/" if settings.HIVEOPS_MAILSINK else ""
        self.stdout.write(
            self.style.SUCCESS(f"\n  HiveOps is starting at {url}\n  Log in as {login} (admin at {url}admin/){mail}\n")
        )

    def _contact(self, user, email: str) -> None:
        """The admin is reachable: an email contact method used at once for both urgencies."""
        if not user.email:
            user.email = email
            user.save(update_fields=["email"])
        method, _ = ContactMethod.objects.get_or_create(user=user, kind=ContactMethod.Kind.EMAIL, address=email)
        for urgency in NotificationRule.Urgency.values:
            NotificationRule.objects.get_or_create(
                user=user, urgency=urgency, contact_method=method, defaults={"position": 0, "delay": td(0)}
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
        policy, _ = EscalationPolicy.objects.get_or_create(team=team, name="Demo on-call", defaults={"repeat": 1})
        level = policy.levels.order_by("position", "id").first()
        if level is None:
            level = EscalationLevel.objects.create(policy=policy, position=1, wait=td(minutes=5))
        level.users.add(user)  # the demo's incidents page the admin
        if not EscalationRoute.objects.filter(team=team, is_default=True).exists():
            EscalationRoute.objects.create(team=team, policy=policy, is_default=True)
