"""The HiveOps admin site: the product's look (templates/admin/base_site.html) and an
autocomplete that offers only objects of the user's teams.

Django's autocomplete answers from the related model's admin queryset, which shows every team
the user can *see*. A form, though, only accepts objects of teams the user may *change* (the
source admin's `change_role`, see core.teams.admin_scoping): the autocomplete offers exactly
those, so another team's objects never appear, not even the teams the user only views. When
the form has a team chosen, only that team's objects are offered (the form would refuse others).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView

from core.teams.admin_scoping import FormTeam, choice_queryset

DEFAULT_CHANGE_ROLE = "manager"


class TeamAutocompleteView(AutocompleteJsonView):
    """Autocomplete results limited to the teams where the user may change the source object."""

    def get_queryset(self):
        queryset = super().get_queryset()
        remote = self.source_field.related_model
        team = self.request.GET.get("team", "")
        if team.isdigit():  # the team chosen in the form (static/admin/hiveops/widgets.js)
            with FormTeam(self.request, int(team)):
                queryset = queryset.filter(pk__in=choice_queryset(remote, self.request, "viewer").values("pk"))
        if self.request.user.is_superuser:
            return queryset
        source_admin = self.admin_site._registry.get(self.source_field.model)
        role = getattr(source_admin, "change_role", DEFAULT_CHANGE_ROLE)
        allowed = choice_queryset(remote, self.request, role)
        return queryset if allowed is None else queryset.filter(pk__in=allowed.values("pk"))


class HiveOpsAdminSite(admin.AdminSite):
    site_header = "HiveOps admin"
    site_title = "HiveOps admin"
    index_title = "Configuration"
    site_url = "/"

    def autocomplete_view(self, request):
        return TeamAutocompleteView.as_view(admin_site=self)(request)
