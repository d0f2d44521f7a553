"""Rows of every kind the admin shows, for one team: the API fixture (tests/fuzz/data.py) plus
the kinds only the admin reaches (tokens, audit events, levels, contact methods …)."""

from __future__ import annotations

from datetime import date
from datetime import timedelta as td

from django.contrib.auth.models import Permission
from django.utils import timezone

from alerts.models import GroupingRule, Incident, InhibitionRule, MaintenanceWindow
from alerts.services.integrations import integration_create
from capacity.models import AnalysisRun, DigestRun, Scenario
from catalog.models import Service
from core.audit.models import AuditEvent
from core.teams.services import api_token_create, membership_ensure, team_get_or_create
from forecasting.models import ForecastScore, SeriesDetector, TeamDetection
from metrics.models import Series
from paging.models import (
    ContactMethod,
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    Notification,
    NotificationChannel,
    NotificationRule,
    OnCallRotation,
)
from tests.capacity.factories import resource
from tests.fuzz.data import team_data


def staff(django_user_model, username: str, team=None, role: str = "manager"):
    """A staff user with every model permission (what a team lead is given), in `team`."""
    user = django_user_model.objects.create_user(username, is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    if team is not None:
        membership_ensure(team=team, user=user, role=role)
    return django_user_model.objects.get(pk=user.pk)  # no cached permissions


def admin_rows(team, user) -> None:
    """One or more rows of every admin model for `team`; `user` is a member of it."""
    team_data(team, user)
    Notification.objects.filter(dedup_key="fuzz-1").update(dedup_key=f"fuzz-{team.slug}")  # unique
    series = Series.objects.filter(team=team).order_by("id").first()
    checkout = Service.objects.filter(team=team).first()
    incident = Incident.objects.filter(team=team).first()
    api_token_create(team=team, name=f"{team.slug} deploy", scopes=["read"])
    integration_create(team=team, kind="webhook", name=f"{team.slug} hook")
    AuditEvent.objects.create(team=team, actor_name=user.username, action="test", object_type="x", object_id="1")
    TeamDetection.objects.get_or_create(team=team)
    SeriesDetector.objects.get_or_create(series=series)
    now = timezone.now()
    ForecastScore.objects.create(series=series, model="theta", horizon="1h", issued_at=now)
    MaintenanceWindow.objects.create(service=checkout, name="patching", starts_at=now, duration=td(hours=1))
    InhibitionRule.objects.create(
        team=team, name="inhibit", source_matchers=[{"name": "a", "op": "=", "value": "b"}], target_matchers=[]
    )
    GroupingRule.objects.create(team=team, name="by host", group_by=["host"])
    policy = EscalationPolicy.objects.filter(team=team).first()
    level = EscalationLevel.objects.create(policy=policy, position=1)
    level.users.set([user])
    level.teams.set([team])
    level.channels.set(NotificationChannel.objects.filter(team=team))
    level.rotation = OnCallRotation.objects.filter(team=team).first()
    level.save()
    if not Escalation.objects.filter(incident=incident).exists():  # an incident starts its own episode
        Escalation.objects.create(incident=incident, policy=policy, snapshot={"levels": []})
    method = ContactMethod.objects.create(user=user, kind="email", address=f"{user.username}@example.com")
    NotificationRule.objects.create(user=user, urgency="high", contact_method=method)
    resource(team, series, owner=user, service=checkout)
    Scenario.objects.create(team=team, name="black friday")
    AnalysisRun.objects.create(team=team, requested_by=user)
    DigestRun.objects.create(team=team, week=date(2026, 1, 5))


def two_teams(django_user_model):
    owners = team_get_or_create(slug="owners", name="Owners")[0]
    others = team_get_or_create(slug="others", name="Others")[0]
    return owners, others
