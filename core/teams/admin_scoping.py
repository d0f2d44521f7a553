"""Team scoping for the Django admin.

Every admin page is limited to the user's teams the way the API is: a staff user sees the rows of
teams they belong to, changes (adds, deletes, runs actions on) only rows of teams where their role
is at least `change_role` (manager by default; viewers get read-only pages), and can only pick
objects of those teams in foreign-key and many-to-many fields. Superusers see everything.

A model's team is found from its fields (`team_path`): the team itself ("pk"), a `team` foreign
key, or a required foreign key to a team-owned model ("policy__team", "series__team", …). A model
with no team (e.g. EvaluationRun) is for superusers only. Admins that need another rule (people,
their contact methods) set `team_path` themselves.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q

from core.teams.models import Membership, Team
from core.teams.selectors import team_ids_for_user

AUTO = "auto"
MAX_DEPTH = 3
WRONG_TEAM = "belongs to another team than this object"
NOT_MANAGED = "you may not change objects of this team"


def team_path(model: type[models.Model], depth: int = 0) -> str | None:
    """The lookup from `model` to its team id, or None when rows of `model` have no team."""
    if model is Team:
        return "pk"
    relations = [f for f in model._meta.get_fields() if f.concrete and (f.many_to_one or f.one_to_one)]
    for field in relations:
        if field.related_model is Team:
            return field.name
    if depth >= MAX_DEPTH:
        return None
    for field in relations:
        if field.null or field.related_model in (model, get_user_model()):
            continue
        inner = team_path(field.related_model, depth + 1)
        if inner is not None:
            return field.name if inner == "pk" else f"{field.name}__{inner}"
    return None


def multi_valued(model: type[models.Model], path: str) -> bool:
    if path == "pk":
        return False
    return any(f.many_to_many or f.one_to_many for f in get_fields_from_path(model, path))


def in_teams(queryset: models.QuerySet, path: str | None, team_ids: list[int]) -> models.QuerySet:
    if path is None:
        return queryset.none()
    queryset = queryset.filter(**{f"{path}__in": team_ids})
    return queryset.distinct() if multi_valued(queryset.model, path) else queryset


def team_of(obj: models.Model | None, path: str | None) -> int | None:
    """The team id of a (possibly unsaved) object, following a single-valued path."""
    if obj is None or path is None:
        return None
    if path == "pk":
        return obj.pk
    if multi_valued(type(obj), path):
        return None
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None)


def user_team_ids(request, role: str = "viewer") -> list[int]:
    """The teams where the request's user has at least `role` (cached on the request)."""
    cache = request.__dict__.setdefault("_hiveops_team_ids", {})
    if role not in cache:
        cache[role] = team_ids_for_user(user=request.user, min_role=role)
    return cache[role]


def belongs(obj: Any, team_id: int) -> bool:
    """Whether a chosen related object may be used by an object of team `team_id`."""
    if isinstance(obj, Team):
        return obj.pk == team_id
    if isinstance(obj, get_user_model()):
        return Membership.objects.filter(user=obj, team_id=team_id).exists()
    if not isinstance(obj, models.Model):
        return True
    path = team_path(type(obj))
    if path is None:
        return True
    if multi_valued(type(obj), path):
        return type(obj)._default_manager.filter(pk=obj.pk, **{path: team_id}).exists()
    return team_of(obj, path) == team_id


def foreign_fields(model: type[models.Model], data: dict, team_id: int, skip=()) -> list[str]:
    """Names of the fields in `data` whose chosen objects belong to another team."""
    wrong = []
    for name, value in data.items():
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if name in skip or not field.is_relation or value is None:
            continue
        values = list(value) if field.many_to_many else [value]
        if not all(belongs(v, team_id) for v in values):
            wrong.append(name)
    return wrong


def choice_queryset(model: type[models.Model], request, role: str) -> models.QuerySet | None:
    """What a foreign-key or many-to-many field may offer: objects of the object's own team when
    it is known (change pages, inlines), else of the teams where the user has `role`."""
    team_id = getattr(request, "_hiveops_form_team", None)
    if team_id is None and request.user.is_superuser:
        return None
    team_ids = [team_id] if team_id is not None else user_team_ids(request, role)
    queryset = model._default_manager.all()
    if model is get_user_model():
        return queryset.filter(memberships__team_id__in=team_ids).distinct()
    return in_teams(queryset, team_path(model), team_ids)


class FormTeam:
    """Offers the choices of one team while a form class is built for an object of that team."""

    def __init__(self, request, team_id: int | None) -> None:
        self.request, self.team_id = request, team_id

    def __enter__(self) -> None:
        self.request._hiveops_form_team = self.team_id

    def __exit__(self, *exc) -> None:
        self.request._hiveops_form_team = None


class ScopedChoices:
    """Foreign-key and many-to-many choices limited to the user's (or the object's) team."""

    change_role = "manager"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = choice_queryset(db_field.related_model, request, self.change_role)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = choice_queryset(db_field.related_model, request, self.change_role)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class TeamScopedAdmin(ScopedChoices, admin.ModelAdmin):
    """A ModelAdmin limited to the user's teams and role (see the module docstring)."""

    team_path: str | None = AUTO
    delete_role: str | None = None  # defaults to change_role

    def scope_path(self) -> str | None:
        return team_path(self.model) if self.team_path == AUTO else self.team_path

    def may(self, request, obj, role: str) -> bool:
        """Whether the user has `role` in some team (obj None) or in obj's team."""
        if request.user.is_superuser:
            return True
        path, team_ids = self.scope_path(), user_team_ids(request, role)
        if path is None or not team_ids:
            return False
        if obj is None:
            return True
        return in_teams(self.model._default_manager.filter(pk=obj.pk), path, team_ids).exists()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return in_teams(queryset, self.scope_path(), user_team_ids(request))

    def changeable(self, request, queryset):
        if request.user.is_superuser:
            return queryset
        return in_teams(queryset, self.scope_path(), user_team_ids(request, self.change_role))

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) and self.may(request, obj, "viewer")

    def has_add_permission(self, request, *args) -> bool:
        return super().has_add_permission(request, *args) and self.may(request, None, self.change_role)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self.may(request, obj, self.change_role)

    def has_delete_permission(self, request, obj=None) -> bool:
        role = self.delete_role or self.change_role
        return super().has_delete_permission(request, obj) and self.may(request, obj, role)

    def get_list_filter(self, request):
        """Related filters list only values of visible rows (a plain one lists every team)."""
        filters = super().get_list_filter(request)
        if request.user.is_superuser:
            return filters
        return [related_only(self.model, item) for item in filters]

    def get_actions(self, request):
        """Actions run on the selected rows the user may change, never on the others."""
        if not self.may(request, None, self.change_role):
            return {}
        actions = super().get_actions(request)
        return {name: (scoped_action(func), name, text) for name, (func, name, text) in actions.items()}

    def _get_list_editable_queryset(self, request, prefix):
        return self.changeable(request, super()._get_list_editable_queryset(request, prefix))

    def get_changeform_initial_data(self, request):
        """A new object's team is preselected when the user may add to exactly one team."""
        initial = super().get_changeform_initial_data(request)
        path = self.scope_path()
        if path == "team" and "team" not in initial and not request.user.is_superuser:
            team_ids = user_team_ids(request, self.change_role)
            if len(team_ids) == 1:
                initial["team"] = team_ids[0]
        return initial

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = checked_form(kwargs.get("form") or self.form, self, request)
        with FormTeam(request, team_of(obj, self.scope_path())):
            return super().get_form(request, obj, change, **kwargs)


class TeamScopedInline(ScopedChoices):
    """Mixin for inlines: rows of the parent's team, choices of the parent's team, changes only
    when the user may change the parent."""

    unchecked_fields: tuple[str, ...] = ()

    def parent_team(self, obj) -> int | None:
        return team_of(obj, team_path(type(obj))) if obj is not None else None

    def parent_ok(self, request, obj, role: str) -> bool:
        if request.user.is_superuser:
            return True
        if obj is None:
            return bool(user_team_ids(request, role))
        return self.parent_team(obj) in user_team_ids(request, role)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return in_teams(queryset, team_path(self.model), user_team_ids(request))

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) and self.parent_ok(request, obj, "viewer")

    def has_add_permission(self, request, obj) -> bool:
        return super().has_add_permission(request, obj) and self.parent_ok(request, obj, self.change_role)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self.parent_ok(request, obj, self.change_role)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self.parent_ok(request, obj, self.change_role)

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["formset"] = checked_formset(kwargs.get("formset") or self.formset, self)
        with FormTeam(request, self.parent_team(obj)):
            return super().get_formset(request, obj, **kwargs)


def related_only(model, item):
    if not isinstance(item, str):
        return item
    try:
        field = get_fields_from_path(model, item)[-1]
    except (FieldDoesNotExist, NotRelationField):
        return item
    return (item, admin.RelatedOnlyFieldListFilter) if field.is_relation else item


def scoped_action(func):
    def run(modeladmin, request, queryset):
        return func(modeladmin, request, modeladmin.changeable(request, queryset))

    for name in ("short_description", "allowed_permissions", "__name__"):
        if hasattr(func, name):
            setattr(run, name, getattr(func, name))
    return run


def checked_form(base: type[forms.ModelForm], model_admin: TeamScopedAdmin, request) -> type[forms.ModelForm]:
    """`base` plus a check that the object's team is one the user may change and that every
    chosen related object belongs to that team."""

    def clean(self):
        data = base.clean(self)
        path = model_admin.scope_path()
        if path is None or multi_valued(model_admin.model, path):
            return data
        first, _, rest = path.partition("__")
        if first in self.cleaned_data:
            chosen = self.cleaned_data[first]
            team_id = (chosen.pk if chosen is not None else None) if not rest else team_of(chosen, rest)
        else:
            team_id = team_of(self.instance, path)
        if team_id is None:
            if not request.user.is_superuser:
                self.add_error(first if first in self.fields else None, "choose one of your teams")
            return data
        if not request.user.is_superuser and team_id not in user_team_ids(request, model_admin.change_role):
            self.add_error(first if first in self.fields else None, NOT_MANAGED)
        for name in foreign_fields(model_admin.model, self.cleaned_data, team_id):
            self.add_error(name, WRONG_TEAM)
        return data

    return type(base.__name__, (base,), {"clean": clean})


def checked_formset(base, inline: TeamScopedInline):
    """`base` plus a check that every chosen object belongs to the parent's team."""

    def clean(self):
        base.clean(self)
        team_id = inline.parent_team(self.instance)
        if team_id is None:
            return
        skip = {self.fk.name, *inline.unchecked_fields}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            for name in foreign_fields(self.model, data, team_id, skip):
                form.add_error(name, WRONG_TEAM)

    def add_fields(self, form, index):
        """The hidden id of each row can only name a row of this parent (Django offers any)."""
        base.add_fields(self, form, index)
        pk = self.model._meta.pk.name
        if isinstance(form.fields.get(pk), forms.ModelChoiceField):
            form.fields[pk].queryset = self.model._default_manager.filter(pk__in=self.get_queryset().values("pk"))

    return type(base.__name__, (base,), {"clean": clean, "add_fields": add_fields})


def manageable_people(request) -> models.QuerySet:
    """People whose every team the user manages (a team lead may change them), and the user."""
    User = get_user_model()
    if request.user.is_superuser:
        return User.objects.all()
    managed = user_team_ids(request, "manager")
    others = Membership.objects.exclude(team_id__in=managed).values("user_id")
    people = User.objects.filter(memberships__team_id__in=managed, is_superuser=False).exclude(pk__in=others)
    return (people | User.objects.filter(pk=request.user.pk)).distinct()


class PersonalAdmin(TeamScopedAdmin):
    """Rows that belong to a person (`user`): seen by the person and by members of their teams,
    changed by the person or by someone who manages every team the person is in."""

    team_path = "user__memberships__team"

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        teams = Q(**{f"{self.team_path}__in": user_team_ids(request)})
        return queryset.filter(teams | Q(user=request.user)).distinct()

    def may(self, request, obj, role: str) -> bool:
        if request.user.is_superuser or (obj is not None and obj.user_id == request.user.pk):
            return True
        if obj is None or role == "viewer":
            return request.user.is_authenticated if obj is None else super().may(request, obj, role)
        return manageable_people(request).filter(pk=obj.user_id).exists()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is get_user_model():
            kwargs["queryset"] = manageable_people(request)
        elif hasattr(db_field.related_model, "user_id"):
            related = db_field.related_model._default_manager
            kwargs["queryset"] = related.filter(user__in=manageable_people(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
