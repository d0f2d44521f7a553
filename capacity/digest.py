"""The weekly capacity digest: per team, what is at risk, what to resize and what it saves,
e-mailed to the resources' owners and the team's managers and admins."""

from __future__ import annotations

import logging
from datetime import date, datetime
from datetime import timedelta as td

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from capacity.models import DigestRun, Resource
from capacity.selectors import fleet, fleet_summary
from core.teams.models import Membership, Team

logger = logging.getLogger(__name__)
LEADS = (Membership.Role.MANAGER, Membership.Role.ADMIN)
TOP = 10


def week_of(now: datetime) -> date:
    return (now - td(days=now.weekday())).date()


def due_week(now: datetime) -> date | None:
    """This week's Monday once the configured weekday and hour (UTC) have come, else None."""
    start = datetime.combine(week_of(now), datetime.min.time(), tzinfo=now.tzinfo)
    send_at = start + td(days=settings.HIVEOPS_CAPACITY_DIGEST_WEEKDAY, hours=settings.HIVEOPS_CAPACITY_DIGEST_HOUR)
    return week_of(now) if now >= send_at else None


def recipients(team: Team) -> list[str]:
    owners = Resource.objects.filter(team=team, enabled=True).exclude(owner=None).values("owner_id")
    leads = Membership.objects.filter(team=team, role__in=LEADS).values("user_id")
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    emails = set(users.filter(pk__in=owners).values_list("email", flat=True))
    emails |= set(users.filter(pk__in=leads).values_list("email", flat=True))
    return sorted(emails)


def digest_context(team: Team, now: datetime) -> dict:
    resources = fleet(team_ids=[team.id])
    analysed = [r for r in resources if getattr(r, "analysis", None) is not None and r.analysis.status == "ok"]
    base = settings.HIVEOPS_BASE_URL
    return {
        "team": team,
        "now": now,
        "summary": fleet_summary(resources),
        "at_risk": [r for r in analysed if r.analysis.at_risk][:TOP],
        "resize": sorted(
            (r for r in analysed if r.analysis.action.startswith("scale_")),
            key=lambda r: r.analysis.monthly_cost_change,
        )[:TOP],
        "fleet_url": base + reverse("capacity-fleet"),
        "base_url": base,
    }


def digest_send(*, team: Team, week: date, now: datetime | None = None) -> bool:
    """Send one team's digest for the week, once: the conditional update on `sent_at` is the claim."""
    now = now or timezone.now()
    run, _ = DigestRun.objects.get_or_create(team=team, week=week)
    if not DigestRun.objects.filter(pk=run.pk, sent_at=None).update(sent_at=now):
        return False
    to = recipients(team)
    context = digest_context(team, now)
    try:
        if to:
            mail = EmailMultiAlternatives(
                subject=f"[HiveOps] Capacity digest for {team.name}: {context['summary'].at_risk} at risk",
                body=render_to_string("emails/capacity_digest.txt", context),
                to=to,
            )
            mail.attach_alternative(render_to_string("emails/capacity_digest.html", context), "text/html")
            mail.send()
    except Exception as exc:  # SMTP down: release the claim, the next hourly run retries
        logger.warning("capacity digest of team %s failed: %s", team.slug, exc)
        DigestRun.objects.filter(pk=run.pk).update(sent_at=None, error=str(exc)[:1000])
        return False
    DigestRun.objects.filter(pk=run.pk).update(recipients=to, resources=context["summary"].resources, error="")
    return bool(to)


def digests_send(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    week = due_week(now)
    if week is None:
        return 0
    teams = Team.objects.filter(capacity_resources__enabled=True).distinct()
    return sum(digest_send(team=team, week=week, now=now) for team in teams)
