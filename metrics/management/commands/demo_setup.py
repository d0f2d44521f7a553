from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

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
        token_file = Path(settings.RUN_DIR) / "demo_token"
        token_file.parent.mkdir(parents=True, exist_ok=True)
        token_file.write_text(raw)
        token_file.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(f"\n  HiveOps is starting at {url}\n  Log in as {login} (admin at {url}admin/)\n")
        )
