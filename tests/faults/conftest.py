"""Fixtures of the fault and scale-out tests: one private PostgreSQL cluster per session (schema
migrated once into a template), and per test a fresh database cloned from it, a private Redis,
and whatever daphne and Celery processes the test starts (all stopped afterwards)."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.processes import (
    TEMPLATE_DB,
    PrivatePostgres,
    PrivateRedis,
    Worker,
    celery_process,
    daphne_process,
    django_env,
    migrate,
    private_postgres,
    private_redis,
    run_django,
    stop_process,
)

_numbers = itertools.count(1)


@dataclass
class Cluster:
    pg: PrivatePostgres
    seed: dict


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    with private_postgres() as pg:
        pg.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
        env = django_env(database_url=pg.url(TEMPLATE_DB), redis_url="redis://127.0.0.1:1/0")
        migrate(env)
        seed = run_django(env, "from tests.faults.seed import seed\nresult = seed()")
        yield Cluster(pg=pg, seed=seed)


@dataclass
class Stack:
    """One test's world: its own database (a clone), a private Redis, processes it started."""

    pg: PrivatePostgres
    redis: PrivateRedis
    dbname: str
    seed: dict
    logs: Path
    processes: list = field(default_factory=list)

    @property
    def database_url(self) -> str:
        return self.pg.url(self.dbname)

    def env(self, **extra: str) -> dict[str, str]:
        return django_env(database_url=self.database_url, redis_url=self.redis.url(), **extra)

    def web(self, name: str = "web", **extra: str):
        server = daphne_process(self.env(**extra), log_path=self.logs / f"{name}.log")
        self.processes.append(server.process)
        return server

    def worker(self, name: str = "worker", *, pool: str = "solo", concurrency: int = 1, **extra: str) -> Worker:
        worker = celery_process(
            self.env(**extra), name=name, log_path=self.logs / f"{name}.log", pool=pool, concurrency=concurrency
        )
        self.processes.append(worker.process)
        return worker

    def query(self, sql: str, params=None):
        return self.pg.execute(sql, params, dbname=self.dbname)

    def scalar(self, sql: str, params=None):
        return self.query(sql, params)[0][0]

    def django(self, code: str) -> object:
        return run_django(self.env(), code)


@pytest.fixture
def stack(cluster, tmp_path) -> Stack:
    dbname = f"faults_{next(_numbers)}_{uuid.uuid4().hex[:6]}"
    cluster.pg.clone(dbname)
    with private_redis() as redis:
        stack = Stack(pg=cluster.pg, redis=redis, dbname=dbname, seed=cluster.seed, logs=tmp_path)
        try:
            yield stack
        finally:
            for process in reversed(stack.processes):
                stop_process(process, timeout=5)
            with contextlib.suppress(Exception):
                cluster.pg.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
