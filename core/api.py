"""Project-wide API glue: the DRF exception handler, JSON 404s for URLs under /api/, and the one
base for serializers of team-owned models."""

from __future__ import annotations

from functools import partial

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError, InterfaceError, OperationalError
from django.http import JsonResponse
from django.views.defaults import page_not_found
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

RETRY_AFTER_SECONDS = 5


def database_unavailable_response() -> Response:
    response = Response({"error": "database unavailable, retry later"}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def exception_handler(exc, context):
    if isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
    ):
        return database_unavailable_response()
    if isinstance(exc, DataError):
        # The database refused a value from the request (a NUL character, a number out of range).
        return Response({"error": "a value in the request cannot be stored or compared (NUL character?)"}, status=400)
    return drf_exception_handler(exc, context)


def not_found(request, exception):
    """handler404: an API client gets JSON for an address no route matches, as for a missing object."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


class ModelCleanMixin:
    """Run the model's clean() so API and admin share one set of rules."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = self.instance or self.Meta.model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        if "team" in self.context:
            instance.team = self.context["team"]
        try:
            instance.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class TeamOwnedSerializer(ModelCleanMixin, serializers.ModelSerializer):
    """A model that belongs to one team, over the API. With the team in the context
    (`context["team"]`, set by the view):
    - the related fields named in `team_choices` offer that team's rows only (a nested serializer
      gets the context of its parent, so this happens when the fields are built, not in __init__);
    - the fields named in `unique_in_team` refuse a value another row of the team holds, as a 400
      naming the field rather than an IntegrityError (500) on save. `noun` names the object in that
      message ("a resource" by default, from the model's verbose name).
    Without a team (a read, a nested list), the fields stay as declared."""

    team_choices: tuple[str, ...] = ()
    unique_in_team: tuple[str, ...] = ()
    noun: str = ""

    def get_fields(self):
        fields = super().get_fields()
        team = self.context.get("team")
        if team is None:
            return fields
        for name in self.team_choices:
            relation = getattr(fields[name], "child_relation", fields[name])
            relation.queryset = relation.queryset.model.objects.filter(team=team)
        for name in self.unique_in_team:
            fields[name].validators.append(partial(self.refuse_taken, team, name))
        return fields

    def refuse_taken(self, team, name: str, value) -> None:
        taken = self.Meta.model.objects.filter(team=team, **{name: value})
        if self.instance is not None and getattr(self.instance, "pk", None) is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            noun = self.noun or f"a {self.Meta.model._meta.verbose_name}"
            raise serializers.ValidationError(f"your team already has {noun} with this {name}")
