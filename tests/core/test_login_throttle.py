"""Login throttling per account and per address, on the page login and the admin login, with the
real Redis; refused attempts never reach the password hasher."""

from __future__ import annotations

import time

import pytest
import redis
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client

from core import fastredis, login_throttle

PAGE = "/login/"
ADMIN = "/admin/login/"


class CountingHasher(PBKDF2PasswordHasher):
    """A real hasher (few iterations, for speed) that counts the passwords it checks."""

    algorithm = "pbkdf2_counting"
    iterations = 1000
    checked = 0

    def verify(self, password: str, encoded: str) -> bool:
        CountingHasher.checked += 1
        return super().verify(password, encoded)


@pytest.fixture(autouse=True)
def _clean_counters(settings):
    settings.PASSWORD_HASHERS = ["tests.core.test_login_throttle.CountingHasher"]
    settings.HIVEOPS_LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    settings.HIVEOPS_LOGIN_MAX_FAILURES_PER_ADDRESS = 12
    settings.HIVEOPS_LOGIN_LOCK_S = 900
    client = fastredis.client()
    keys = list(client.scan_iter(fastredis.key("login:fail:*")))
    if keys:
        client.delete(*keys)
    login_throttle._broken_until = 0.0
    yield
    login_throttle._broken_until = 0.0


@pytest.fixture
def dave(db, django_user_model):
    return django_user_model.objects.create_user("dave", password="right-pw-1234", is_staff=True, is_superuser=True)


def post_login(url: str, username: str, password: str, address: str = "10.0.0.1"):
    client = Client(REMOTE_ADDR=address)
    return client, client.post(url, {"username": username, "password": password})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", [PAGE, ADMIN])
def test_the_right_password_is_refused_after_too_many_failures(dave, url):
    for _ in range(5):
        _, response = post_login(url, "dave", "wrong")
        assert response.status_code == 200
    client, response = post_login(url, "dave", "right-pw-1234")
    assert response.status_code == 429
    assert 800 <= int(response["Retry-After"]) <= 900
    assert "Too many failed logins" in response.content.decode()
    assert not logged_in(client)


@pytest.mark.parametrize("url", [PAGE, ADMIN])
def test_a_throttled_attempt_does_not_check_the_password(dave, url):
    for _ in range(5):
        post_login(url, "dave", "wrong")
    before = CountingHasher.checked
    for _ in range(20):
        assert post_login(url, "dave", "wrong")[1].status_code == 429
    assert CountingHasher.checked == before


def test_the_account_limit_holds_across_addresses(dave):
    for n in range(5):
        post_login(PAGE, "dave", "wrong", address=f"10.0.1.{n}")
    assert post_login(PAGE, "DAVE", "right-pw-1234", address="10.0.2.1")[1].status_code == 429


def test_the_address_limit_holds_across_accounts(dave):
    for n in range(12):
        post_login(PAGE, f"someone-{n}", "wrong", address="10.9.9.9")
    client, response = post_login(PAGE, "dave", "right-pw-1234", address="10.9.9.9")
    assert response.status_code == 429
    client, response = post_login(PAGE, "dave", "right-pw-1234", address="10.9.9.10")
    assert response.status_code == 302
    assert logged_in(client)


def test_a_successful_login_clears_the_accounts_failures(dave):
    for _ in range(4):
        post_login(PAGE, "dave", "wrong")
    assert post_login(PAGE, "dave", "right-pw-1234")[1].status_code == 302
    for _ in range(4):
        assert post_login(PAGE, "dave", "wrong")[1].status_code == 200
    assert post_login(PAGE, "dave", "right-pw-1234")[1].status_code == 302


def test_the_lock_ends_after_the_lock_time(dave, settings):
    settings.HIVEOPS_LOGIN_LOCK_S = 1
    for _ in range(5):
        post_login(PAGE, "dave", "wrong")
    assert post_login(PAGE, "dave", "right-pw-1234")[1].status_code == 429
    time.sleep(2.1)
    assert post_login(PAGE, "dave", "right-pw-1234")[1].status_code == 302


def test_logins_fail_open_when_redis_is_down(dave, monkeypatch):
    monkeypatch.setattr(login_throttle, "_client", redis.Redis(port=1, socket_connect_timeout=0.2))
    started = time.monotonic()
    for _ in range(8):
        assert post_login(PAGE, "dave", "wrong")[1].status_code == 200
    client, response = post_login(PAGE, "dave", "right-pw-1234")
    assert response.status_code == 302
    assert logged_in(client)
    assert time.monotonic() - started < 5


def test_the_counters_live_in_the_installations_key_space(dave, settings):
    post_login(PAGE, "dave", "wrong")
    keys = [k.decode() for k in fastredis.client().scan_iter(f"{settings.HIVEOPS_INSTALLATION}:login:fail:*")]
    assert len(keys) == 2  # the account's and the address's
