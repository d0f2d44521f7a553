from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.teams.services import InvalidScope, api_token_create, team_get_or_create


class Command(BaseCommand):
    help = "Create an API token for a team (created if missing). The token is the last word printed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--team", required=True, help="team slug")
        parser.add_argument("--name", required=True, help="what the token is for")
        parser.add_argument("--scopes", default="ingest,read", help="comma-separated: ingest,read,write,admin")

    def handle(self, *args, team: str, name: str, scopes: str, **options) -> None:
        try:
            team_obj, created = team_get_or_create(slug=team)
            token, raw = api_token_create(
                team=team_obj, name=name, scopes=[s.strip() for s in scopes.split(",") if s.strip()]
            )
        except (InvalidScope, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if created:
            self.stdout.write(f"Created team {team_obj.slug}.")
        self.stdout.write(
            f"Token '{token.name}' for team {team_obj.slug} with scopes {','.join(token.scopes)}. "
            f"It is shown once; store it now: {raw}"
        )
