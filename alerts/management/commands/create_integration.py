from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from alerts.models import Integration
from alerts.services.integrations import integration_create
from catalog.models import Service
from core.teams.services import team_get_or_create


class Command(BaseCommand):
    help = "Create an alert integration for a team (created if missing). The key is the last word printed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--team", required=True)
        parser.add_argument("--kind", required=True, choices=Integration.Kind.values)
        parser.add_argument("--name", required=True)
        parser.add_argument("--service", help="slug of an existing service of the team")

    def handle(self, *args, team: str, kind: str, name: str, service: str | None, **options) -> None:
        team_obj, created = team_get_or_create(slug=team)
        service_obj = None
        if service:
            service_obj = Service.objects.filter(team=team_obj, slug=service).first()
            if service_obj is None:
                raise CommandError(f"team {team_obj.slug} has no service {service!r}")
        integration, key = integration_create(team=team_obj, kind=kind, name=name, service=service_obj)
        if created:
            self.stdout.write(f"Created team {team_obj.slug}.")
        self.stdout.write(f"{integration.get_kind_display()} integration '{name}' for team {team_obj.slug}. Key: {key}")
