"""End-to-end tests start the processes of `make run` from the Procfile, on the private PostgreSQL
cluster and Redis of the fault tests (tests/faults/conftest.py): they take a minute or more each.
Marked `slow`; `pytest -m "not slow"` leaves them out."""

from __future__ import annotations

from tests.faults.conftest import cluster, stack  # noqa: F401  (fixtures)


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: starts real processes (PostgreSQL, Redis, daphne, Celery); minutes")
