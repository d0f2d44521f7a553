"""`/healthz` (the process answers) and `/readyz` (database, Redis and fresh beat and worker
heartbeats). Both are unauthenticated and cheap, and say nothing about the deployment: the body is
`ok`, `ready`, or `not ready: <names of the failed checks>`."""

from __future__ import annotations

import logging
import threading

import psycopg
import redis
from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.observability import heartbeats

logger = logging.getLogger(__name__)
DB_TIMEOUT_S = 1
_db_lock = threading.Lock()
_db: dict[str, psycopg.Connection] = {}


def _conninfo() -> str:
    s = connections["default"].settings_dict
    return psycopg.conninfo.make_conninfo(
        dbname=s["NAME"],
        user=s["USER"],
        password=s["PASSWORD"],
        host=s["HOST"],
        port=s["PORT"] or "5432",
        connect_timeout=DB_TIMEOUT_S,
        options=f"-c statement_timeout={DB_TIMEOUT_S * 1000}",
        application_name="hiveops-readyz",
    )


def database_ok() -> bool:
    """SELECT 1 on a connection kept for the probe (a new one after a failure)."""
    conninfo = _conninfo()
    with _db_lock:
        conn = _db.get(conninfo)
        try:
            if conn is None or conn.closed:
                conn = _db[conninfo] = psycopg.connect(conninfo, autocommit=True)
            conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            if conn is not None:
                conn.close()
            _db.pop(conninfo, None)
            return False


def failed_checks() -> list[str]:
    failed = [] if database_ok() else ["database"]
    try:
        ages = heartbeats.ages()
    except (redis.RedisError, OSError):
        return [*failed, "redis", "beat", "worker"]
    limit = settings.HIVEOPS_HEARTBEAT_MAX_AGE_S
    failed += [name for name, age in ages.items() if age is None or age > limit]
    return failed


def _text(status: int, body: str) -> HttpResponse:
    return HttpResponse(body + "\n", status=status, content_type="text/plain; charset=utf-8")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return _text(200, "ok")


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    failed = failed_checks()
    if failed:
        return _text(503, "not ready: " + ", ".join(failed))
    return _text(200, "ready")
