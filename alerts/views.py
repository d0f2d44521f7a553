"""Pages of the alerts app: the one-tap acknowledge link."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from alerts.links import ack_token_read, incident_url
from alerts.models import Incident, OnCallRotation
from alerts.selectors import on_call_at, schedule
from alerts.services.incidents import IncidentError, incident_acknowledge
from hive_ops.teams.selectors import team_ids_for_user
from hive_ops.timeparse import ParamError, instant


@csrf_exempt  # the signed token is the credential; it allows this one action only
@require_http_methods(["GET", "POST"])
def ack_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows one big button (link previewers and mail scanners only GET); POST acknowledges."""
    try:
        data = ack_token_read(token)
    except signing.SignatureExpired:
        return render(
            request, "alerts/ack.html", {"error": "This link has expired. Log in to acknowledge."}, status=410
        )
    except signing.BadSignature:
        return render(request, "alerts/ack.html", {"error": "This link is not valid."}, status=400)
    incident = Incident.objects.filter(uid=data["i"]).select_related("service").first()
    if incident is None:
        return render(request, "alerts/ack.html", {"error": "This incident no longer exists."}, status=404)
    context = {"incident": incident, "incident_url": incident_url(incident)}
    if request.method == "POST" and incident.status == Incident.Status.TRIGGERED:
        user = get_user_model().objects.filter(pk=data["u"]).first() if data["u"] else None
        try:
            incident = incident_acknowledge(incident=incident, by=user)
        except IncidentError:
            incident.refresh_from_db()
        context.update(incident=incident, done=True)
    return render(request, "alerts/ack.html", context)


@login_required
def oncall(request: HttpRequest) -> HttpResponse:
    """Who is on call now (or at ?at=), the next two weeks, and coverage gaps, per rotation."""
    try:  # the form's datetime-local value has no zone: it is UTC
        at = instant(request.GET.get("at"), "at", default=timezone.now(), assume_utc=True)
    except ParamError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    rows = []
    for rotation in OnCallRotation.objects.filter(team_id__in=team_ids_for_user(user=request.user)):
        plan = schedule(rotation=rotation, start=at)
        shifts = [s for s in plan if not isinstance(s, tuple)]
        now = on_call_at(rotation=rotation, at=at)
        ids = {s.user_id for s in shifts} | ({now.user_id} if now else set())
        users = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
        rows.append(
            {
                "rotation": rotation,
                "now": {"user": users.get(now.user_id), "end": now.end, "override": now.override} if now else None,
                "gaps": [s for s in plan if isinstance(s, tuple)],
                "upcoming": [
                    {"user": users.get(s.user_id), "start": s.start, "end": s.end, "override": s.override}
                    for s in shifts[:14]
                ],
            }
        )
    return render(request, "alerts/oncall.html", {"rows": rows, "at_local": at.strftime("%Y-%m-%dT%H:%M")})
