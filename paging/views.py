"""Pages of the paging app: the one-tap link page (acknowledge, snooze) and the on-call page."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from alerts.models import Incident
from alerts.services import snooze
from alerts.services.incidents import IncidentError, incident_acknowledge
from core.teams.selectors import role_in_team, roles_at_least, team_ids_for_user
from core.timeparse import ParamError, instant
from paging.links import ack_token_read, incident_url
from paging.models import Escalation, Notification, OnCallRotation
from paging.selectors import on_call_at, schedule
from paging.services.delivery import recipient_refusal


def _ack_page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    context.setdefault("snooze_choices", list(snooze.LABELS.items()))
    return render(request, "paging/ack.html", context, status=status)


def _link_refusal(notification: Notification, actor) -> tuple[str, int]:
    """Why this link cannot act now ("" when it can), and the status to answer."""
    incident = notification.incident
    if notification.user_id is not None:
        refusal = recipient_refusal(notification.user, incident)
        if refusal:
            return f"This link was sent to {notification.user.get_username()}, and {refusal}.", 403
    elif actor is None or role_in_team(user=actor, team_id=incident.team_id) not in roles_at_least("responder"):
        return "Only a responder of this incident's team can act on it.", 403
    current = Escalation.objects.filter(incident=incident).order_by("-started_at", "-id").values_list("pk", flat=True)
    latest = current.first()
    if incident.status == Incident.Status.TRIGGERED and notification.escalation_id not in (None, latest):
        return (
            "This link was sent for an earlier page of this incident. It was triggered again and new "
            "links went out: use the newest message, or open the incident.",
            410,
        )
    return "", 200


@csrf_exempt  # the signed token is the credential; it allows acknowledge and snooze only
@require_http_methods(["GET", "POST"])
def ack_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the buttons (link previewers and mail scanners only GET); POST acts. The link is
    bound to its delivery: the person it was sent to (a channel's link asks for a login) and the
    paging episode that sent it."""
    try:
        notification_id = ack_token_read(token)
    except signing.SignatureExpired:
        return _ack_page(request, {"error": "This link has expired. Log in to acknowledge."}, status=410)
    except signing.BadSignature:
        return _ack_page(request, {"error": "This link is not valid."}, status=400)
    notification = Notification.objects.select_related("incident__service", "user").filter(pk=notification_id).first()
    if notification is None:
        return _ack_page(request, {"error": "This incident no longer exists."}, status=404)
    if notification.user_id is None and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    actor = notification.user if notification.user_id else request.user
    incident = notification.incident
    context = {"incident": incident, "incident_url": incident_url(incident), "actor": actor}
    refusal, status = _link_refusal(notification, actor)
    if refusal:
        return _ack_page(request, {**context, "error": refusal}, status=status)
    if request.method == "POST":
        channel = f"{notification.kind} link"
        try:
            if request.POST.get("snooze"):
                count = snooze.incident_snooze(
                    incident=incident, by=actor, duration=request.POST["snooze"], channel=channel
                )
                context["done"] = f"Snoozed {count} alert(s) {snooze.LABELS[request.POST['snooze']]}."
            elif incident.status == Incident.Status.TRIGGERED:
                incident_acknowledge(incident=incident, by=actor, channel=channel)
                context["done"] = "Acknowledged. Escalation stopped."
        except (IncidentError, snooze.SnoozeError) as exc:
            context["error_inline"] = str(exc)
        incident.refresh_from_db()
    return _ack_page(request, context)


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
    return render(request, "paging/oncall.html", {"rows": rows, "at_local": at.strftime("%Y-%m-%dT%H:%M")})
