from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.utils import timezone

from core.admin_widgets import Checkboxes
from core.teams.admin_scoping import TeamScopedAdmin, TeamScopedInline
from core.teams.models import SCOPES, ApiToken, Membership, Team

# People and permission groups have their own admin rules (registered on import).
from core.teams.people_admin import addable_people
from core.teams.selectors import ROLES, role_in_team
from core.teams.services import api_token_create


class MembershipFormSet(BaseInlineFormSet):
    """A manager changes memberships up to their own role; only a team admin (or a superuser)
    grants, changes or removes the admin role."""

    def clean(self) -> None:
        super().clean()
        user = self.request.user
        if user.is_superuser or self.instance.pk is None:
            return
        own = role_in_team(user=user, team_id=self.instance.pk)
        if own not in ("manager", "admin"):
            raise forms.ValidationError("only a manager of this team may change its members")
        for form in self.forms:
            if not form.has_changed() and not (form.cleaned_data or {}).get("DELETE"):
                continue
            roles = {form.initial.get("role"), (form.cleaned_data or {}).get("role")} - {None}
            if any(ROLES.index(role) > ROLES.index(own) for role in roles):
                form.add_error(None, f"your role in this team is {own}; only an admin may grant or change admin")


class MembershipInline(TeamScopedInline, admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    extra = 0
    autocomplete_fields = ["user"]
    unchecked_fields = ("user",)  # a new member is, by definition, not in the team yet

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.request = request
        return formset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = addable_people(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Team)
class TeamAdmin(TeamScopedAdmin):
    """Members see their teams; managers change them and their members; only superusers add
    teams, and a team's admins (or superusers) delete it."""

    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]
    delete_role = "admin"

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)


class ApiTokenCreateForm(forms.ModelForm):
    """Creating and changing tokens: scopes as checkboxes; the admin scope only from a team admin."""

    scopes = forms.MultipleChoiceField(
        choices=[(s, s) for s in SCOPES],
        widget=Checkboxes,
        help_text="What the token may do: read, ingest metrics, write configuration, admin (team admins only).",
    )

    class Meta:
        model = ApiToken
        fields = ["team", "name", "scopes", "expires_at"]

    def clean(self):
        data = super().clean()
        user, team = self.request.user, data.get("team")
        wants_admin = "admin" in (data.get("scopes") or []) and team is not None and not user.is_superuser
        if wants_admin and role_in_team(user=user, team_id=team.pk) != "admin":
            self.add_error("scopes", "only an admin of the team may give a token the admin scope")
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(TeamScopedAdmin):
    list_display = ["name", "team", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["team", "revoked_at"]
    search_fields = ["name", "prefix", "team__slug"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        # On a change too: the plain form would let a manager type the admin scope in.
        kwargs["form"] = type("ApiTokenCreateForm", (ApiTokenCreateForm,), {"request": request})
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["team", "name", "scopes", "expires_at"]
        return ["team", "name", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at"]

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = api_token_create(
            team=form.cleaned_data["team"],
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.cleaned_data.get("expires_at"),
        )
        obj.pk = token.pk
        messages.warning(request, f"Token created. Copy it now, it is not shown again: {raw}")

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset) -> None:
        count = queryset.filter(revoked_at=None).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} token(s).")
