"""Admin rules beyond visibility: who changes members and roles, tokens, people, and the
write-only channel secrets."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from core.teams.models import ApiToken, Membership, Team
from core.teams.services import membership_ensure, team_get_or_create
from paging.models import EscalationLevel, EscalationPolicy, NotificationChannel
from tests.core.teams.admin_world import staff

SECRET_URL = "https://hooks.example.com/services/T000/B000/very-secret-token"


@pytest.fixture
def owners(db):
    return team_get_or_create(slug="owners", name="Owners")[0]


@pytest.fixture
def others(db):
    return team_get_or_create(slug="others", name="Others")[0]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_data(response) -> dict:
    """What the browser would post back for an admin change page (form and inlines)."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management[name].html_name: management[name].value() for name in management.fields})
        forms += inline.formset.forms
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            if isinstance(value, datetime):  # the admin's split date and time inputs
                data[f"{form[name].html_name}_0"], data[f"{form[name].html_name}_1"] = value.date(), value.time()
                continue
            data[form[name].html_name] = "on" if value is True else value
    return data


def add_member(client, team: Team, user, role: str):
    url = reverse("admin:teams_team_change", args=[team.pk])
    response = client.get(url)
    if response.status_code != 200:
        return response
    data = page_data(response)
    row = int(data["memberships-TOTAL_FORMS"])
    data["memberships-TOTAL_FORMS"] = row + 1
    data.update({f"memberships-{row}-user": user.pk, f"memberships-{row}-role": role})
    return client.post(url, data)


def test_a_manager_adds_a_person_to_the_team_up_to_their_own_role(owners, django_user_model):
    alice = staff(django_user_model, "alice", owners, role="manager")
    newcomer = django_user_model.objects.create_user("newcomer")
    client = client_for(alice)
    refused = add_member(client, owners, newcomer, "admin")
    assert refused.status_code == 200
    assert "only an admin may grant" in refused.content.decode()
    assert not Membership.objects.filter(user=newcomer).exists()
    assert add_member(client, owners, newcomer, "responder").status_code == 302
    assert Membership.objects.get(user=newcomer).role == "responder"


def test_a_viewer_sees_the_team_but_changes_nothing(owners, django_user_model):
    viewer = staff(django_user_model, "vera", owners, role="viewer")
    newcomer = django_user_model.objects.create_user("newcomer")
    client = client_for(viewer)
    url = reverse("admin:teams_team_change", args=[owners.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    data = {"slug": "owners", "name": "Owners", "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0"}
    data.update({"memberships-0-user": newcomer.pk, "memberships-0-role": "admin"})
    assert client.post(url, data).status_code == 403
    assert not Membership.objects.filter(user=newcomer).exists()
    assert client.get(reverse("admin:teams_apitoken_add")).status_code == 403


def test_a_manager_creates_a_token_shown_once_but_not_an_admin_token(owners, django_user_model):
    alice = staff(django_user_model, "alice", owners, role="manager")
    client = client_for(alice)
    add = reverse("admin:teams_apitoken_add")
    refused = client.post(add, {"team": owners.pk, "name": "root-ish", "scopes": ["admin"]})
    assert "scopes" in refused.context["adminform"].form.errors
    created = client.post(add, {"team": owners.pk, "name": "deploy", "scopes": ["read"]}, follow=True)
    token = ApiToken.objects.get(team=owners, name="deploy")
    shown = [str(m) for m in get_messages(created.wsgi_request)] + [created.content.decode()]
    assert any("not shown again" in text for text in shown)
    page = client.get(reverse("admin:teams_apitoken_change", args=[token.pk])).content.decode()
    assert token.token_hash not in page


def test_channel_secrets_are_write_only(owners, django_user_model):
    alice = staff(django_user_model, "alice", owners, role="manager")
    viewer = staff(django_user_model, "vera", owners, role="viewer")
    config = {"url": SECRET_URL, "secret": "hmac-very-secret"}
    channel = NotificationChannel.objects.create(team=owners, kind="webhook", name="hook", config=config)
    url = reverse("admin:paging_notificationchannel_change", args=[channel.pk])
    for user in (alice, viewer):
        page = client_for(user).get(url).content.decode()
        assert "very-secret-token" not in page, user.username
        assert "hmac-very-secret" not in page, user.username
    client = client_for(alice)
    data = page_data(client.get(url))
    assert client.post(url, data).status_code == 302
    channel.refresh_from_db()
    assert channel.config == config  # left empty, the write-only fields kept the stored values
    data.update({"config__url": "https://new.example/hook", "config__secret": "new-secret"})
    assert client.post(url, data).status_code == 302
    channel.refresh_from_db()
    assert channel.config == {"url": "https://new.example/hook", "secret": "new-secret"}


def test_a_level_of_one_team_cannot_page_another_team(owners, others, django_user_model):
    lead = staff(django_user_model, "lead", owners, role="manager")
    membership_ensure(team=others, user=lead, role="manager")  # manages both
    policy = EscalationPolicy.objects.create(team=owners, name="primary")
    theirs = NotificationChannel.objects.create(team=others, kind="webhook", name="theirs", config={})
    client = client_for(lead)
    url = reverse("admin:paging_escalationpolicy_change", args=[policy.pk])
    page = client.get(url)
    level_fields = page.context["inline_admin_formsets"][0].formset.empty_form.fields
    assert list(level_fields["teams"].queryset) == [owners]
    assert theirs not in level_fields["channels"].queryset
    data = page_data(page)
    data.update({"levels-TOTAL_FORMS": 1, "levels-0-position": 1, "levels-0-wait": "00:05:00"})
    data.update({"levels-0-strategy": "all", "levels-0-timezone": "UTC", "levels-0-teams": [others.pk]})
    assert client.post(url, data).status_code == 200  # the form comes back with the error
    assert not EscalationLevel.objects.exists()


def test_a_team_lead_manages_only_people_wholly_in_their_teams(owners, others, django_user_model):
    bob = staff(django_user_model, "bob", others, role="manager")
    member = django_user_model.objects.create_user("member")
    membership_ensure(team=others, user=member, role="responder")
    shared = django_user_model.objects.create_user("shared")
    membership_ensure(team=others, user=shared, role="responder")
    membership_ensure(team=owners, user=shared, role="responder")
    alice = django_user_model.objects.create_user("alice")
    membership_ensure(team=owners, user=alice)
    client = client_for(bob)
    listed = set(client.get(reverse("admin:auth_user_changelist")).context["cl"].queryset)
    assert alice not in listed
    assert {bob, member, shared} <= listed
    assert client.get(reverse("admin:auth_user_change", args=[alice.pk])).status_code == 302
    assert not client.get(reverse("admin:auth_user_change", args=[shared.pk])).context["has_change_permission"]
    url = reverse("admin:auth_user_change", args=[member.pk])
    data = page_data(client.get(url))
    data.update({"first_name": "Mem", "is_staff": "on", "is_superuser": "on"})
    assert client.post(url, data).status_code == 302
    member.refresh_from_db()
    assert member.first_name == "Mem"
    assert not member.is_staff
    assert not member.is_superuser
    assert client.get(reverse("admin:auth_user_add")).status_code == 403
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
    assert not Group.objects.exists()
