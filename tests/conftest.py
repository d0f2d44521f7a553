from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
from django.db import connection
from rest_framework.test import APIClient

from core.teams.services import api_token_create, membership_ensure, team_get_or_create
from metrics import storage
from metrics.services import series_cache

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _fresh_series_cache():
    """Series ids are cached per process; tests create and drop series freely."""
    series_cache.clear()
    yield
    series_cache.clear()


@pytest.fixture(autouse=True)
def _celery_eager():
    """Tasks run inline in tests; nothing is left queued in Redis for a real worker to pick up."""
    from hive_ops.celery import app

    # With the CELERY_ settings namespace, the prefixed key is the one Celery reads.
    app.conf.CELERY_TASK_ALWAYS_EAGER = True
    yield
    app.conf.CELERY_TASK_ALWAYS_EAGER = False


@pytest.fixture
def storage_clean(db):
    """Samples and rollups are unmanaged tables that Django's flush does not empty (either layout)."""
    with connection.cursor() as cursor:
        storage.samples_truncate(cursor)


@pytest.fixture
def plain_layout(db):
    """For tests of the plain layout's own machinery (partitions, the rollup refresh statement)."""
    if storage.layout() != storage.PLAIN:
        pytest.skip("tests the plain layout; this database uses TimescaleDB (metrics.storage.layout())")


@pytest.fixture
def timescale_layout(db):
    """For tests of the TimescaleDB layout (hypertable, continuous aggregates, jobs)."""
    if storage.layout() != storage.TIMESCALEDB:
        with connection.cursor() as cursor:
            why = storage.layout_reason(cursor) or "created before the layout choice was recorded"
        pytest.skip(f"needs the TimescaleDB layout; this database uses the plain one ({why})")


@pytest.fixture
def team(db):
    return team_get_or_create(slug="ops", name="Ops")[0]


@pytest.fixture
def other_team(db):
    return team_get_or_create(slug="other", name="Other")[0]


@pytest.fixture
def alice(db, team, django_user_model):
    """Owner: a member of `team`."""
    user = django_user_model.objects.create_user("alice", password="pw-alice-1234")
    membership_ensure(team=team, user=user)
    return user


@pytest.fixture
def bob(db, other_team, django_user_model):
    """A member of another team."""
    user = django_user_model.objects.create_user("bob", password="pw-bob-1234")
    membership_ensure(team=other_team, user=user)
    return user


@pytest.fixture
def charlie(db, django_user_model):
    """An outsider: logged in, member of no team."""
    return django_user_model.objects.create_user("charlie", password="pw-charlie-1234")


@pytest.fixture
def make_token(db):
    def make(team, scopes=("ingest", "read")):
        return api_token_create(team=team, name="test", scopes=list(scopes))[1]

    return make


@pytest.fixture
def token_client(make_token, team):
    def make(scopes=("ingest", "read"), for_team=None):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(for_team or team, scopes)}")
        return client

    return make


def json_body(series: list[dict]) -> bytes:
    return orjson.dumps({"series": series})


def recent_points(count: int, value: float = 1.0, step: int = 60, end: int | None = None) -> list[list[float]]:
    end = int(time.time()) // step * step if end is None else end
    return [[end - (count - 1 - i) * step, value + i] for i in range(count)]


@pytest.fixture
def http_peer():
    from tests.peers import start_http_peer

    peer = start_http_peer()
    yield peer
    peer.server.shutdown()


@pytest.fixture
def smtp_peer(settings):
    from tests.peers import start_smtp_peer

    controller, sink = start_smtp_peer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    yield sink
    controller.stop()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database is reused across runs (and days): create today's partitions, as beat
    would (plain layout; nothing to do on TimescaleDB)."""
    from django.conf import settings

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        storage.layout_prepare(cursor, days_back=settings.HIVEOPS_RETENTION_RAW_DAYS, days_ahead=3)
