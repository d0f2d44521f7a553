from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from bi.demo import demo_content_create
from core.teams.models import Team


class Command(BaseCommand):
    help = (
        "Fill the demo team (made by demo_setup) with a month of metrics, SLOs and an SLA, capacity "
        "resources and scenarios, an on-call rotation and incidents, so every page has content (idempotent)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--team", default="demo", help="team slug (default: demo)")
        parser.add_argument("--username", default=os.environ.get("HIVEOPS_DEMO_USER", "admin"))

    def handle(self, *args, team: str, username: str, **options) -> None:
        found = Team.objects.filter(slug=team).first()
        user = get_user_model().objects.filter(username=username).first()
        if found is None or user is None:
            raise CommandError(f"no team {team!r} or user {username!r}: run `manage.py demo_setup` first")
        counts = demo_content_create(team=found, user=user)
        self.stdout.write(
            f"  Demo content: {counts['points']} new samples, {counts['slas']} SLA, "
            f"{counts['resources']} capacity resources"
        )
