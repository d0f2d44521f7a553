"""Real processes for fault and scale-out tests: a private Redis, a private PostgreSQL cluster,
daphne web processes and Celery workers pointed at them.

The machine's shared PostgreSQL (5432) and Redis (6379) serve other people's work, so tests that
stop, restart or kill a service only ever do it to the private instances started here:

- `PrivateRedis`: `redis-server` on a free port, no persistence (a restart loses everything,
  which is the harsh case);
- `PrivatePostgres`: a throwaway PostgreSQL 15 cluster (`initdb` in a temporary directory, trust
  authentication, listening on 127.0.0.1 and a socket in its own directory). One cluster serves a
  whole test session: the project's schema is migrated once into a template database and each
  test clones it (`CREATE DATABASE … TEMPLATE`, a file copy);
- `daphne_process` / `celery_process`: the web and worker processes, each in its own process
  group (`kill_group` kills a worker and its pool children, as the OOM killer or a power cut
  would), with `DATABASE_URL`, `REDIS_URL` and `CELERY_BROKER_URL` pointing at the private
  instances.

The binaries are looked up at the standard Debian paths; `require_binaries()` skips a test with
the reason when they are missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.browser import Server

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("HIVEOPS_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = Path(os.environ.get("HIVEOPS_TEST_REDIS_SERVER", "/usr/bin/redis-server"))
PG_USER = "hiveops"
TEMPLATE_DB = "hiveops_template"


def require_binaries() -> None:
    """Skip the calling test (or fixture) when the private services cannot be started here."""
    for binary in (PG_BIN / "initdb", PG_BIN / "pg_ctl", REDIS_SERVER):
        if not binary.exists():
            pytest.skip(f"fault test: {binary} is missing (install postgresql-15 and redis-server)")
    if os.geteuid() == 0 and _postgres_user() is None:
        pytest.skip("fault test: running as root and there is no 'postgres' user to run PostgreSQL as")


def _postgres_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, the private cluster runs as `postgres`."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return "postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; returns it, or fails the test."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# --- Redis -----------------------------------------------------------------------------------


@dataclass
class PrivateRedis:
    port: int
    process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(self.answers, timeout=15, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        """SIGKILL: a crash, not a clean shutdown (nothing is saved either way)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def freeze(self) -> None:
        """SIGSTOP: the kernel still accepts connections, but nothing answers (a hung host)."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    require_binaries()
    redis = PrivateRedis(port=free_port())
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


# --- PostgreSQL ------------------------------------------------------------------------------


@dataclass
class PrivatePostgres:
    datadir: Path
    port: int
    log_path: Path

    def url(self, dbname: str) -> str:
        return f"postgres://{PG_USER}@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={PG_USER} dbname={dbname} connect_timeout=5"

    def _ctl(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.log_path), "-w", "-t", "50", *args],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=timeout,
            user=_postgres_user(),
        )

    def _options(self) -> list[str]:
        settings = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off -c jit=off"
        return ["-o", settings]

    def start(self) -> None:
        self._ctl(*self._options(), "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def restart(self) -> None:
        """Fast shutdown (every session is cut, open transactions roll back), then start again."""
        self._ctl("-m", "fast", *self._options(), "restart")

    def execute(self, sql: str, params=None, *, dbname: str = "postgres"):
        import psycopg

        with psycopg.connect(self.conninfo(dbname), autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else None

    def clone(self, name: str, template: str = TEMPLATE_DB) -> str:
        """A fresh copy of the migrated template; returns its DATABASE_URL."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A new cluster in a temporary directory, removed afterwards."""
    require_binaries()
    tmp = Path(tempfile.mkdtemp(prefix="hiveops-pg-"))
    user = _postgres_user()
    if user is not None:
        shutil.chown(tmp, user)
    datadir = tmp / "data"
    subprocess.run(
        [str(PG_BIN / "initdb"), "-D", str(datadir), "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=120,
        user=user,
    )
    pg = PrivatePostgres(datadir=datadir, port=free_port(), log_path=tmp / "postgres.log")
    pg.start()
    try:
        yield pg
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            pg._ctl("-m", "immediate", "stop")
        shutil.rmtree(tmp, ignore_errors=True)


# --- Django processes ------------------------------------------------------------------------


def django_settings():
    from django.conf import settings

    return settings


def django_env(*, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """Environment of a web or worker process on the private instances."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hive_ops.settings",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_QUEUE": "celery",
        # The test process's Redis key and channel prefix: its tasks and events reach the workers.
        "HIVEOPS_INSTALLATION": django_settings().HIVEOPS_INSTALLATION,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def run_django(env: dict[str, str], code: str, *, timeout: float = 180) -> object:
    """Run `code` in a fresh Django process with `env`; it assigns `result`, returned decoded
    from JSON. For setting up data in a private database the test process is not connected to."""
    program = f"import django, json\ndjango.setup()\nresult = None\n{code}\nprint('\\n' + json.dumps(result))"
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"django script failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def migrate(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{done.stderr[-4000:]}")


def daphne_process(env: dict[str, str], *, log_path: Path) -> Server:
    """daphne on a socket bound here (handed over with --fd, so no race for the port). Call
    `wait_until_up()` on the result; `stop_process(server.process)` ends it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    daphne = Path(sys.executable).with_name("daphne")
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(daphne), "--fd", str(sock.fileno()), "hive_ops.asgi:application"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=[sock.fileno()],
            start_new_session=True,
        )
    server = Server(url=f"http://127.0.0.1:{sock.getsockname()[1]}", process=process, log_path=log_path)
    sock.close()
    return server


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log_path: Path
    extra: list[str] = field(default_factory=list)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_until_ready(self, timeout: float = 60) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            return " ready." in self.log()

        wait_for(ready, timeout=timeout, interval=0.2, what=f"worker {self.name} to be ready")


def celery_process(
    env: dict[str, str], *, name: str, log_path: Path, pool: str = "solo", concurrency: int = 1
) -> Worker:
    """A Celery worker (`-n <name>@faults`) logging at INFO, so `Worker.log()` shows every task
    it received and what the task returned."""
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "hive_ops",
        "worker",
        "-n",
        f"{name}@faults",
        "-P",
        pool,
        "--concurrency",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "INFO",
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**env, "LOG_LEVEL": "INFO"},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Worker(name=name, process=process, log_path=log_path)


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process and everything in its process group (a worker and its pool)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM the process group, SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)


def send_task(broker_url: str, name: str, args: list, **options) -> None:
    """Queue a task by name on a private broker, as a web process or beat would."""
    from celery import Celery

    app = Celery("faults", broker=broker_url, set_as_current=False)
    app.conf.task_serializer = "json"
    app.conf.broker_transport_options = {"global_keyprefix": f"{django_settings().HIVEOPS_INSTALLATION}:"}
    with app.connection_for_write() as conn:
        app.send_task(name, args=args, connection=conn, **options)
