from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hive_ops.env import ImproperEnv, database_from_url, env_bool, env_int

ROOT = Path(__file__).resolve().parents[3]


def test_env_helpers_fail_loudly(monkeypatch):
    monkeypatch.setenv("X_BOOL", "maybe")
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(ImproperEnv, match="X_BOOL"):
        env_bool("X_BOOL", False)
    with pytest.raises(ImproperEnv, match="X_INT"):
        env_int("X_INT", 1)


def test_database_url_is_parsed():
    assert database_from_url("postgres://u:p%40ss@db.example:6543/hive") | {} == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "hive",
        "USER": "u",
        "PASSWORD": "p@ss",
        "HOST": "db.example",
        "PORT": "6543",
    }
    with pytest.raises(ImproperEnv):
        database_from_url("mysql://x/y")


def run_check(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "hive_ops.settings_production", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_pass_check_deploy():
    result = run_check({"SECRET_KEY": "x" * 64 + "-production-secret-key", "ALLOWED_HOSTS": "hiveops.example.com"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_require_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "hive_ops.settings_production"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr
