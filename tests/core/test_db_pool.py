"""The database connection pool: bounded, no connection kept by idle threads, and 503 with
Retry-After on pages, login, admin and API when no connection can be had in time."""

from __future__ import annotations

import copy
import time

import orjson
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from hive_ops.celery import use_own_connection


def test_web_processes_use_a_bounded_pool_without_persistent_connections():
    database = django_settings.DATABASES["default"]
    pool = database["OPTIONS"]["pool"]
    assert 0 < pool["max_size"] <= 20
    assert pool["timeout"] > 0
    assert database["CONN_MAX_AGE"] == 0


def test_celery_processes_get_one_reused_connection_instead_of_the_pool():
    databases = copy.deepcopy(django_settings.DATABASES)
    use_own_connection(databases, conn_max_age=300)
    assert "pool" not in databases["default"]["OPTIONS"]
    assert databases["default"]["CONN_MAX_AGE"] == 300


def in_use() -> int:
    stats = connection.pool.get_stats()
    return stats["pool_size"] - stats["pool_available"]


@pytest.mark.django_db(transaction=True)
def test_ingest_threads_give_their_connections_back(team, make_token):
    """Each ingest runs in a worker thread; before, every thread kept a pooled connection checked
    out, and after `max_size` requests the next one waited for the pool timeout, then got 503."""
    token = make_token(team)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    body = orjson.dumps({"series": [{"metric": "cpu", "labels": {"host": "a"}, "points": [[time.time(), 1.0]]}]})
    for _ in range(connection.pool.max_size + 2):
        started = time.monotonic()
        response = client.post("/api/v1/ingest", body, content_type="application/json")
        assert response.status_code == 200, response.content
        assert time.monotonic() - started < 2
    assert in_use() <= 1  # at most the test's own


@pytest.fixture
def database_away(transactional_db):
    """The pool points at a port nothing listens on, with a short wait: no connection can be had."""
    connection.close()
    connection.close_pool()
    saved = copy.deepcopy(connection.settings_dict)
    connection.settings_dict["PORT"] = "1"
    connection.settings_dict["OPTIONS"]["pool"] = {**saved["OPTIONS"]["pool"], "min_size": 0, "timeout": 0.5}
    yield saved
    connection.close()
    connection.close_pool()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


def logged_in_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@pytest.fixture
def alice_cookie(alice) -> str:
    return logged_in_cookie(alice)


def test_a_page_answers_503_with_retry_after(alice_cookie, database_away):
    client = Client()
    client.cookies["sessionid"] = alice_cookie
    response = client.get("/console/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "Temporarily unavailable" in response.content.decode()


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_the_login_forms_answer_503_with_retry_after(database_away, url):
    response = Client().post(url, {"username": "alice", "password": "pw-alice-1234"})
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0


def test_the_api_answers_503_json_with_retry_after(alice_cookie, database_away):
    client = APIClient()
    client.cookies["sessionid"] = alice_cookie
    response = client.get("/api/v1/alerts")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.json() == {"error": "database unavailable, retry later"}


def test_a_page_works_again_once_the_database_is_back(alice_cookie, database_away):
    client = Client()
    client.cookies["sessionid"] = alice_cookie
    assert client.get("/console/").status_code == 503
    connection.close_pool()
    connection.settings_dict["PORT"] = database_away["PORT"]
    assert client.get("/console/").status_code == 200
