"""Admin rules for people and permission groups, which belong to no single team.

- A staff user who is not a superuser sees themselves, the members of their teams, and people
  in no team yet (so a manager can add them to a team). Members of other teams are invisible.
- They change a person only if they manage every team that person is in (or it is themselves),
  never a superuser, and never the flags and permissions that grant admin rights (is_staff,
  is_superuser, groups, user_permissions): those, adding and deleting people, and permission
  groups are for superusers.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db.models import Q, QuerySet

from core.teams.admin_scoping import manageable_people, user_team_ids

User = get_user_model()
GRANTS = ("is_staff", "is_superuser", "groups", "user_permissions", "last_login", "date_joined")


def visible_people(request) -> QuerySet:
    if request.user.is_superuser:
        return User.objects.all()
    teamless = Q(memberships=None, is_staff=False, is_superuser=False)
    mine = Q(memberships__team_id__in=user_team_ids(request)) | Q(pk=request.user.pk)
    return User.objects.filter(mine | teamless).distinct()


def addable_people(request) -> QuerySet:
    """Who a manager may add to a team: members of the teams they manage and people in no team."""
    if request.user.is_superuser:
        return User.objects.all()
    teamless = Q(memberships=None, is_staff=False, is_superuser=False)
    managed = Q(memberships__team_id__in=user_team_ids(request, "manager"))
    return User.objects.filter(managed | teamless).distinct()


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class PersonAdmin(UserAdmin):
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=visible_people(request).values("pk"))

    def has_view_permission(self, request, obj=None) -> bool:
        if not super().has_view_permission(request, obj):
            return False
        return obj is None or visible_people(request).filter(pk=obj.pk).exists()

    def has_change_permission(self, request, obj=None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        if request.user.is_superuser:
            return True
        if obj is None:
            return bool(user_team_ids(request, "manager"))
        return manageable_people(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else [*fields, *GRANTS]

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        return filters if request.user.is_superuser else [f for f in filters if f != "groups"]

    def get_actions(self, request):
        return super().get_actions(request) if request.user.is_superuser else {}


@admin.register(Group)
class PermissionGroupAdmin(GroupAdmin):
    """Permission groups grant admin rights: superusers only."""

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.none()
