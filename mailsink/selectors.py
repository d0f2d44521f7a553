"""Reads of the mail sink, limited to what the user may see."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from core.teams.models import Membership
from core.teams.selectors import team_ids_for_user
from mailsink.models import SentMail
from paging.models import ContactMethod


def team_addresses(*, user) -> list[str]:
    """Email addresses of the members of the user's teams: their account email and their email
    contact methods, lower-cased."""
    member_ids = Membership.objects.filter(team_id__in=team_ids_for_user(user=user)).values("user_id")
    emails = get_user_model().objects.filter(pk__in=member_ids).exclude(email="").values_list("email", flat=True)
    methods = ContactMethod.objects.filter(user_id__in=member_ids, kind=ContactMethod.Kind.EMAIL).values_list(
        "address", flat=True
    )
    return sorted({a.strip().lower() for a in [*emails, *methods] if a.strip()})


def mail_visible(*, user, limit: int = 100) -> QuerySet[SentMail]:
    """The newest messages to addresses of members of the user's teams; superusers see all."""
    mails = SentMail.objects.order_by("-received_at", "-id")
    if not user.is_superuser:
        addresses = team_addresses(user=user)
        if not addresses:
            return mails.none()
        mails = mails.filter(recipients__has_any_keys=addresses)
    return mails[:limit]
