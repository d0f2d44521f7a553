"""The weekly capacity digest: per team, what is at risk, what to resize and what it saves,
e-mailed to the resources' owners and the team's managers and admins."""

from __future__ import annotations

from datetime import date, datetime
from datetime import timedelta as td

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone

from capacity.models import DigestRun, Resource
from capacity.selectors import fleet, fleet_summary
from core.reports import UpdateClaim, report_email, report_send
from core.teams.models import Membership, Team

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
    """Send one team's digest for the week, once, through the report pipeline: the conditional
    update of the week's run's `sent_at` is the claim; an SMTP failure clears it (the next hourly
    run retries) and records the error."""
    now = now or timezone.now()
    run, _ = DigestRun.objects.get_or_create(team=team, week=week)
    sent: dict = {}

    def render() -> EmailMultiAlternatives | None:
        to = recipients(team)
        context = digest_context(team, now)
        sent.update(to=to, resources=context["summary"].resources)
        if not to:
            return None
        return report_email(
            subject=f"[HiveOps] Capacity digest for {team.name}: {context['summary'].at_risk} at risk",
            template="emails/capacity_digest",
            context=context,
            to=to,
        )

    def confirm(message) -> None:
        DigestRun.objects.filter(pk=run.pk).update(recipients=sent["to"], resources=sent["resources"], error="")

    claim = UpdateClaim(
        queryset=DigestRun.objects.filter(pk=run.pk, sent_at=None),
        claimed={"sent_at": now},
        released={"sent_at": None},
        on_release=lambda exc: {"error": str(exc)[:1000]},
        on_confirm=confirm,
    )
    return report_send(claim=claim, render=render, what=f"capacity digest of team {team.slug}")


def digests_send(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    week = due_week(now)
    if week is None:
        return 0
    teams = Team.objects.filter(capacity_resources__enabled=True).distinct()
    return sum(digest_send(team=team, week=week, now=now) for team in teams)
