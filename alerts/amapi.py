"""`/alertmanager/api/v2/`: the parts of Alertmanager's API v2 that Prometheus (posting alerts,
`alerting.alertmanagers` with `api_version: v2`, `path_prefix: /alertmanager`) and `amtool`
(alerts, silences, status) call. Thin views: authenticate (API token as Bearer or Basic
password; `ingest` to post alerts, `read` to list, `write` for silences), then one service in
`alerts/services/amapi.py`. Errors are Alertmanager's shape: a JSON string with the message."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import orjson
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from alerts.models import Silence
from alerts.services import amapi
from alerts.services.intake import PayloadError, PayloadTooLarge
from alerts.services.muting import silence_expire
from core.teams.models import Team
from core.teams.protocol_auth import CHALLENGE, ProtocolAuthError, protocol_caller
from metrics.matchers import MatcherError, matches_all, parse_matchers

STARTED = time.time()
VERSION = {
    "version": "0.25.0",
    "revision": "hiveops",
    "branch": "hiveops",
    "buildUser": "hiveops",
    "buildDate": "20260101-00:00:00",
    "goVersion": "n/a",
}


def _json(payload, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(payload), status=status, content_type="application/json")


def _iso(value) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else "0001-01-01T00:00:00Z"


def endpoint(methods: dict[str, str]):
    """Method -> scope; Alertmanager's error bodies; the caller's one team for writes."""

    def wrap(handler):
        @csrf_exempt
        def view(request: HttpRequest, **kwargs) -> HttpResponse:
            scope = methods.get(request.method)
            if scope is None:
                return _json(f"method {request.method} not allowed", 405)
            try:
                caller = protocol_caller(request, scope)
                return handler(request, caller, **kwargs)
            except ProtocolAuthError as exc:
                response = _json(exc.message, exc.status)
                if exc.status == 401:
                    response["WWW-Authenticate"] = CHALLENGE
                if exc.retry_after:
                    response["Retry-After"] = str(exc.retry_after)
                return response
            except PayloadTooLarge as exc:
                return _json("; ".join(exc.errors), 413)
            except PayloadError as exc:
                return _json("; ".join(exc.errors), 400)
            except MatcherError as exc:
                return _json(f"bad matcher: {exc}", 400)
            except DjangoValidationError as exc:
                return _json("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()), 400)

        view.__name__ = handler.__name__
        return view

    return wrap


def _body(request: HttpRequest):
    try:
        return orjson.loads(request.body or b"null")
    except orjson.JSONDecodeError as exc:
        raise PayloadError([f"malformed JSON: {exc}"]) from None


def _team(caller) -> Team:
    return Team.objects.get(pk=caller.team_ids[0])


def _filters(request: HttpRequest) -> list:
    found = []
    for text in request.GET.getlist("filter"):
        found.extend(parse_matchers(text))
    return found


def _flag(request: HttpRequest, name: str) -> bool:
    return request.GET.get(name, "true").lower() != "false"


@endpoint({"GET": "read", "POST": "ingest"})
def alerts(request: HttpRequest, caller) -> HttpResponse:
    """POST: alerts from Prometheus; GET: the team's open alerts (amtool alert query)."""
    if request.method == "POST":
        amapi.amapi_alerts_receive(team=_team(caller), alerts=_body(request))
        return HttpResponse(status=200)
    wanted, out = _filters(request), []
    for alert in amapi.open_alerts(team_ids=caller.team_ids).order_by("-last_seen")[:5000]:
        muted = alert.muted
        if not matches_all(wanted, alert.labels):
            continue
        if (muted == "silenced" and not _flag(request, "silenced")) or (
            muted == "suppressed" and not _flag(request, "inhibited")
        ):
            continue
        if not muted and not _flag(request, "active"):
            continue
        out.append(_alert(alert))
    return _json(out)


def _alert(alert) -> dict:
    silenced = [str(alert.silence.uid)] if alert.muted == "silenced" and alert.silence else []
    return {
        "labels": alert.labels,
        "annotations": alert.annotations,
        "startsAt": _iso(alert.fired_at or alert.first_seen),
        "endsAt": "0001-01-01T00:00:00Z",
        "updatedAt": _iso(alert.last_seen),
        "fingerprint": alert.fingerprint[:16],
        "generatorURL": alert.generator_url,
        "receivers": [{"name": "hiveops"}],
        "status": {
            "state": "suppressed" if alert.muted else "active",
            "silencedBy": silenced,
            "inhibitedBy": [],
        },
    }


def _silence(silence: Silence, now) -> dict:
    return {
        "id": str(silence.uid),
        "matchers": amapi.matchers_to_am(silence.matchers),
        "startsAt": _iso(silence.starts_at),
        "endsAt": _iso(
            silence.expired_at if silence.expired_at and silence.expired_at < silence.ends_at else silence.ends_at
        ),
        "updatedAt": _iso(silence.expired_at or silence.created_at),
        "createdBy": silence.created_by.get_username() if silence.created_by else "hiveops",
        "comment": silence.comment,
        "status": {"state": amapi.silence_state(silence, now)},
    }


@endpoint({"GET": "read", "POST": "write"})
def silences(request: HttpRequest, caller) -> HttpResponse:
    """GET: the team's silences (amtool silence query); POST: create or replace one."""
    if request.method == "POST":
        created_by = f"token {caller.token.name}" if caller.token else ""
        silence = amapi.amapi_silence_save(team=_team(caller), body=_body(request), created_by=created_by)
        return _json({"silenceID": str(silence.uid)})
    wanted, now = _filters(request), timezone.now()
    out = []
    for silence in Silence.objects.filter(team_id__in=caller.team_ids).select_related("created_by")[:5000]:
        have = {(m["name"], m.get("op", "="), m["value"]) for m in silence.matchers}
        if all((f.name, f.op, f.value) in have for f in wanted):
            out.append(_silence(silence, now))
    return _json(out)


@endpoint({"GET": "read", "DELETE": "write"})
def silence(request: HttpRequest, caller, silence_id: str) -> HttpResponse:
    """GET one silence; DELETE expires it (amtool silence expire)."""
    try:
        found = Silence.objects.select_related("created_by").get(team_id__in=caller.team_ids, uid=silence_id)
    except (Silence.DoesNotExist, DjangoValidationError):
        return _json(f"silence {silence_id[:40]} not found", 404)
    if request.method == "DELETE":
        silence_expire(silence=found)
        return HttpResponse(status=200)
    return _json(_silence(found, timezone.now()))


@endpoint({"GET": "read"})
def status(request: HttpRequest, caller) -> HttpResponse:
    """Alertmanager's status: a one-node "cluster", its version, no configuration file."""
    return _json(
        {
            "cluster": {"name": "hiveops", "status": "ready", "peers": []},
            "versionInfo": VERSION,
            "config": {"original": "# alert routing is configured in HiveOps (escalation routes)\n"},
            "uptime": _iso(datetime.fromtimestamp(STARTED, UTC)),
        }
    )
