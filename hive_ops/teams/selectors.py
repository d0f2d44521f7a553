from __future__ import annotations

from datetime import timedelta as td

from django.utils import timezone

from hive_ops.teams.models import ApiToken, Membership
from hive_ops.teams.tokens import token_hash

LAST_USED_RESOLUTION = td(minutes=1)


def team_ids_for_user(*, user) -> list[int]:
    if not user.is_authenticated:
        return []
    return list(Membership.objects.filter(user=user).values_list("team_id", flat=True))


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The active token for a raw secret, or None. Records last use at most once a minute."""
    token = ApiToken.objects.select_related("team").filter(token_hash=token_hash(raw)).first()
    now = timezone.now()
    if token is None or not token.is_active(now):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
