from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from core.teams.models import SCOPES, ApiToken, Membership, Team
from core.teams.tokens import token_generate, token_hash


class InvalidScope(ValueError):
    pass


def team_get_or_create(*, slug: str, name: str | None = None) -> tuple[Team, bool]:
    slug = slugify(slug)
    if not slug:
        raise ValueError("team slug must contain letters or digits")
    return Team.objects.get_or_create(slug=slug, defaults={"name": name or slug.replace("-", " ").title()})


def membership_ensure(*, team: Team, user, role: str = Membership.Role.ADMIN) -> Membership:
    membership, _ = Membership.objects.get_or_create(team=team, user=user, defaults={"role": role})
    return membership


@transaction.atomic
def api_token_create(
    *, team: Team, name: str, scopes: list[str], expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is not stored anywhere."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise InvalidScope(f"unknown scope(s) {', '.join(unknown) or '(none given)'}; use {', '.join(SCOPES)}")
    raw = token_generate()
    token = ApiToken.objects.create(
        team=team,
        name=name,
        prefix=raw[:10],
        token_hash=token_hash(raw),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    return token, raw


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())
