"""The admin, persona by persona, for every registered model (admin.site._registry, so new
models are covered without touching this test).

alice manages team "owners"; bob is the lead of team "others" with every model permission; root
is a superuser. bob sees none of the owners' rows, reaches none of their change pages, cannot
pick their objects in any choice field (forms and inlines) and cannot add objects into their
team; root sees everything; alice still manages her team."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.forms import ModelChoiceField
from django.test import Client
from django.urls import NoReverseMatch, reverse

from core.teams.admin_scoping import TeamScopedAdmin, TeamScopedInline, team_path
from core.teams.models import ApiToken, Membership, Team
from core.teams.people_admin import PermissionGroupAdmin, PersonAdmin
from tests.core.teams.admin_world import admin_rows, staff, two_teams

User = get_user_model()
NOT_TEAM_OWNED = {"auth.Group", "forecasting.EvaluationRun"}  # superusers only
ADMINS = list(admin.site._registry.items())
IDS = [model._meta.label for model, _ in ADMINS]


@pytest.fixture
def world(db, django_user_model, storage_clean):
    owners, others = two_teams(django_user_model)
    alice = staff(django_user_model, "alice", owners, role="manager")
    bob = staff(django_user_model, "bob", others, role="manager")
    root = django_user_model.objects.create_superuser("root")
    admin_rows(owners, alice)
    admin_rows(others, bob)
    return SimpleNamespace(owners=owners, others=others, alice=alice, bob=bob, root=root)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rows_of(model, team) -> set:
    """Primary keys of the rows of `model` that belong to `team`."""
    if model is User:
        return set(User.objects.filter(memberships__team=team).values_list("pk", flat=True))
    model_admin = admin.site._registry.get(model)
    path = model_admin.scope_path() if isinstance(model_admin, TeamScopedAdmin) else team_path(model)
    if path is None:
        return set()
    return set(model._default_manager.filter(**{path: team.pk}).values_list("pk", flat=True))


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def choice_fields(response):
    """Every model choice field of the page's form and of its inlines' forms."""
    forms = [response.context["adminform"].form]
    for inline in response.context.get("inline_admin_formsets") or []:
        forms += [*inline.formset.forms, inline.formset.empty_form]
    for form in forms:
        for name, field in form.fields.items():
            if isinstance(field, ModelChoiceField):
                yield f"{type(form).__name__}.{name}", field.queryset


def test_every_admin_uses_the_team_scoping():
    for model, model_admin in ADMINS:
        label = model._meta.label
        assert isinstance(model_admin, TeamScopedAdmin | PersonAdmin | PermissionGroupAdmin), label
        for inline in model_admin.inlines:
            assert issubclass(inline, TeamScopedInline), f"{label} inline {inline.__name__}"
        if isinstance(model_admin, TeamScopedAdmin) and label not in NOT_TEAM_OWNED:
            assert model_admin.scope_path() is not None, f"{label} has no way to its team"


def test_team_paths_are_derived_from_the_fields():
    from forecasting.models import SeriesDetector
    from paging.models import EscalationLevel, Notification

    assert team_path(Team) == "pk"
    assert team_path(EscalationLevel) == "policy__team"
    assert team_path(SeriesDetector) == "series__team"
    assert team_path(Notification) == "incident__team"


@pytest.mark.parametrize(("model", "model_admin"), ADMINS, ids=IDS)
def test_the_fixture_has_rows_of_every_team_owned_model(world, model, model_admin):
    owners = world.owners
    if model._meta.label not in NOT_TEAM_OWNED:
        assert rows_of(model, owners), f"add a {model.__name__} of the team to tests/core/teams/admin_world.py"


@pytest.mark.parametrize(("model", "model_admin"), ADMINS, ids=IDS)
def test_another_teams_lead_sees_and_reaches_none_of_the_rows(world, model, model_admin):
    owners = world.owners
    bob = world.bob
    client = client_for(bob)
    theirs = rows_of(model, owners)
    response = client.get(url(model, "changelist"))
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        shown = set(response.context["cl"].queryset.values_list("pk", flat=True))
        assert not shown & theirs, f"{model.__name__}: bob sees {sorted(shown & theirs)[:5]}"
        assert shown or model._meta.label in NOT_TEAM_OWNED, "bob should see his own team's rows"
    for pk in list(theirs)[:5]:
        status = client.get(url(model, "change", pk)).status_code
        assert status in (302, 403, 404), f"{model.__name__} {pk}: {status}"


@pytest.mark.parametrize(("model", "model_admin"), ADMINS, ids=IDS)
def test_another_teams_lead_cannot_pick_the_teams_objects(world, model, model_admin):
    owners = world.owners
    others = world.others
    bob = world.bob
    client = client_for(bob)
    pages = [url(model, "add")] + [url(model, "change", pk) for pk in sorted(rows_of(model, others))[:1]]
    checked = 0
    for page in pages:
        response = client.get(page)
        if response.status_code != 200 or "adminform" not in response.context:
            continue
        for name, queryset in choice_fields(response):
            leaked = set(queryset.values_list("pk", flat=True)) & rows_of(queryset.model, owners)
            assert not leaked, f"{page} {name} offers the owners' {queryset.model.__name__} {sorted(leaked)[:5]}"
            checked += 1
    print(f"{model.__name__}: {checked} choice fields checked")


@pytest.mark.parametrize(("model", "model_admin"), ADMINS, ids=IDS)
def test_another_teams_lead_cannot_add_into_the_team(world, model, model_admin):
    owners = world.owners
    bob = world.bob
    if not any(f.name == "team" and f.related_model is Team for f in model._meta.fields):
        return
    try:
        add = url(model, "add")
    except NoReverseMatch:
        return
    before = rows_of(model, owners)
    response = client_for(bob).post(add, {"team": owners.pk, "name": "intruder", "scopes": ["admin"]})
    assert response.status_code in (200, 403), response.status_code
    assert rows_of(model, owners) == before


def test_another_teams_lead_cannot_add_an_admin_token_or_himself_to_the_team(world):
    owners = world.owners
    bob = world.bob
    client = client_for(bob)
    response = client.post(url(ApiToken, "add"), {"team": owners.pk, "name": "mine", "scopes": ["admin"]})
    assert response.status_code == 200
    assert "team" in response.context["adminform"].form.errors
    assert not ApiToken.objects.filter(team=owners, name="mine").exists()
    membership = {
        "slug": "owners",
        "name": "Owners",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": bob.pk,
        "memberships-0-role": "admin",
    }
    assert client.post(url(Team, "change", owners.pk), membership).status_code in (302, 403, 404)
    assert not Membership.objects.filter(team=owners, user=bob).exists()


@pytest.mark.parametrize(("model", "model_admin"), ADMINS, ids=IDS)
def test_the_superuser_sees_everything(world, model, model_admin):
    owners = world.owners
    others = world.others
    root = world.root
    client = client_for(root)
    response = client.get(url(model, "changelist"))
    assert response.status_code == 200
    shown = set(response.context["cl"].queryset.values_list("pk", flat=True))
    assert rows_of(model, owners) | rows_of(model, others) <= shown
    for pk in sorted(rows_of(model, owners))[:1]:
        assert client.get(url(model, "change", pk)).status_code == 200


@pytest.mark.parametrize(("model", "model_admin"), ADMINS, ids=IDS)
def test_the_teams_manager_sees_and_opens_its_rows(world, model, model_admin):
    owners = world.owners
    others = world.others
    alice = world.alice
    client = client_for(alice)
    ours = rows_of(model, owners)
    response = client.get(url(model, "changelist"))
    if model._meta.label in NOT_TEAM_OWNED:
        assert response.status_code == 403
        return
    shown = set(response.context["cl"].queryset.values_list("pk", flat=True))
    assert ours <= shown
    assert not shown & rows_of(model, others) - ours
    for pk in sorted(ours)[:1]:
        assert client.get(url(model, "change", pk)).status_code == 200


def autocomplete_fields() -> list[tuple[type, str]]:
    """(source model, field name) of every autocomplete in the admin, inlines included."""
    found = []
    for model, model_admin in ADMINS:
        found += [(model, name) for name in model_admin.autocomplete_fields]
        for inline in model_admin.inlines:
            found += [(inline.model, name) for name in inline.autocomplete_fields]
    return found


AUTOCOMPLETES = autocomplete_fields()
AUTOCOMPLETE_IDS = [f"{model._meta.label}.{name}" for model, name in AUTOCOMPLETES]


def offered(client, model, name: str, term: str = "") -> set[int]:
    query = {"app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": name}
    response = client.get(reverse("admin:autocomplete"), {**query, "term": term})
    assert response.status_code == 200, response.status_code
    return {int(row["id"]) for row in response.json()["results"]}


def test_the_foreign_keys_team_leads_pick_have_autocompletes():
    assert {
        "alerts.AlertRule.service",
        "slo.SLA.slo",
        "capacity.Resource.service",
        "paging.EscalationLevel.users",
        "paging.EscalationLevel.channels",
        "paging.RotationMember.user",
    } <= set(AUTOCOMPLETE_IDS)


@pytest.mark.parametrize(("model", "name"), AUTOCOMPLETES, ids=AUTOCOMPLETE_IDS)
def test_autocompletes_offer_only_the_users_teams_objects(world, model, name):
    owners = world.owners
    others = world.others
    remote = model._meta.get_field(name).related_model
    theirs = rows_of(remote, owners) - rows_of(remote, others)
    shown = offered(client_for(world.bob), model, name)
    assert not shown & theirs, f"bob is offered the owners' {remote.__name__} {sorted(shown & theirs)[:5]}"
    assert shown, f"bob should be offered his own team's {remote.__name__}"
    assert theirs <= offered(client_for(world.root), model, name)  # the superuser is not limited


def test_autocompletes_leave_out_teams_the_user_only_views(world, django_user_model):
    from alerts.models import AlertRule
    from catalog.models import Service

    Membership.objects.create(user=world.bob, team=world.owners, role="viewer")
    shown = offered(client_for(world.bob), AlertRule, "service")
    assert shown == set(Service.objects.filter(team=world.others).values_list("pk", flat=True))


def test_an_outsider_gets_no_autocomplete(world, django_user_model):
    from alerts.models import AlertRule

    outsider = staff(django_user_model, "charlie")
    client = client_for(outsider)
    query = {"app_label": "alerts", "model_name": "alertrule", "field_name": "service", "term": ""}
    response = client.get(reverse("admin:autocomplete"), query)
    assert response.status_code == 403 or not response.json()["results"]
    assert offered(client_for(world.root), AlertRule, "service")


def test_autocompletes_follow_the_team_chosen_in_the_form(world):
    from catalog.models import Service

    Membership.objects.create(user=world.bob, team=world.owners, role="manager")  # bob leads both
    client = client_for(world.bob)
    query = {"app_label": "alerts", "model_name": "alertrule", "field_name": "service"}
    both = {int(row["id"]) for row in client.get(reverse("admin:autocomplete"), query).json()["results"]}
    assert both == set(Service.objects.filter(team__in=[world.owners, world.others]).values_list("pk", flat=True))
    response = client.get(reverse("admin:autocomplete"), {**query, "team": world.others.pk})
    assert {int(row["id"]) for row in response.json()["results"]} == rows_of(Service, world.others)
    Membership.objects.filter(user=world.bob, team=world.owners).delete()
    response = client_for(world.bob).get(reverse("admin:autocomplete"), {**query, "team": world.owners.pk})
    assert response.json()["results"] == []  # naming a team does not open it
