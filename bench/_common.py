"""Shared helpers of the benchmark scripts: bench database, daphne server, tokens, HTTP, output.

Isolation rules every script follows:

- the database is `hiveops_bench` (overridable with --database-url, but never `hiveops` or
  `test_hiveops`, which other people use); it is created and migrated when missing;
- a server started by a script listens on 127.0.0.1:8100 (never 8000) and is stopped when the
  script ends, whatever happens;
- all traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
DAPHNE = ROOT / ".venv" / "bin" / "daphne"
DEFAULT_DATABASE_URL = "postgres://hiveops:hiveops@127.0.0.1:5432/hiveops_bench"
DEFAULT_PORT = 8100
HOST = "127.0.0.1"
FORBIDDEN_DATABASES = {"hiveops", "test_hiveops"}
FORBIDDEN_PORTS = {8000}
SERVER_START_TIMEOUT_S = 60


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def add_common_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON line on stdout (progress on stderr)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="bench database (default %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port of the bench server (default %(default)s)")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="run the server with DEBUG=true (the settings default); by default the bench server runs "
        "with DEBUG=false, as in production",
    )


def bench_parser(
    doc: str | None, *, web: bool = False, redis_url: str | None = None, **defaults
) -> argparse.ArgumentParser:
    """The parser every script starts from: its docstring as the help, the common arguments (with
    this script's `defaults`, e.g. database_url=, port=), the web-tier ones when `web`, and
    --redis-url when the script has a Redis database of its own (`redis_url`, its default)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    if web:
        add_web_arguments(parser)
    if defaults:
        parser.set_defaults(**defaults)
    if redis_url is not None:
        parser.add_argument("--redis-url", default=redis_url, help="Redis database of the bench (default %(default)s)")
    return parser


def add_web_arguments(parser) -> None:
    """For the scripts that measure the web tier as deployed (ingest, query, alert list)."""
    parser.add_argument(
        "--web-processes",
        type=int,
        default=2,
        help="daphne processes sharing the port through core/webserver.py, as the Procfile runs "
        "them (default %(default)s; 0 = one plain daphne)",
    )


def check_isolation(database_url: str, port: int) -> None:
    parsed = urlparse(database_url)
    name = parsed.path.lstrip("/")
    if name in FORBIDDEN_DATABASES:
        raise SystemExit(f"refusing to benchmark against database {name!r}: use hiveops_bench")
    if parsed.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"refusing to use a non-local database host {parsed.hostname!r}")
    if port in FORBIDDEN_PORTS:
        raise SystemExit(f"refusing to use port {port}: use 8100")


def check_named_isolation(database_url: str, port: int, redis_url: str, *, database: str, redis_db: int) -> None:
    """check_isolation, plus: the script's own database (name prefix) and a local, non-0 Redis db."""
    check_isolation(database_url, port)
    name = urlparse(database_url).path.lstrip("/")
    if not name.startswith(database):
        raise SystemExit(f"refusing to use database {name!r}: use {database}")
    redis = urlparse(redis_url)
    if redis.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"refusing to use a non-local Redis host {redis.hostname!r}")
    if redis.path.strip("/") in ("", "0"):
        raise SystemExit(f"refusing Redis database 0 (shared with the development server): use /{redis_db}")


def database_name(database_url: str) -> str:
    return urlparse(database_url).path.lstrip("/")


def psycopg_conninfo(database_url: str, dbname: str | None = None) -> str:
    """The URL as a libpq connection string (optionally for another database on the same server)."""
    parsed = urlparse(database_url)
    if dbname is not None:
        parsed = parsed._replace(path=f"/{dbname}")
    return urlunparse(parsed._replace(scheme="postgresql"))


def installation(database_url: str) -> str:
    """The server's HIVEOPS_INSTALLATION: the setting if given, else the database name (as in settings)."""
    return os.environ.get("HIVEOPS_INSTALLATION") or urlparse(database_url).path.lstrip("/")


def celery_queue_key(database_url: str, queue: str = "celery") -> str:
    """The Redis list of a Celery queue: Celery prefixes every key with "<installation>:"."""
    return f"{installation(database_url)}:{queue}"


def django_env(database_url: str, *, debug: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["DJANGO_SETTINGS_MODULE"] = "hive_ops.settings"
    env["DEBUG"] = "true" if debug else "false"
    env.setdefault("LOG_LEVEL", "WARNING")
    return env


def setup_django(database_url: str, *, debug: bool = False) -> None:
    """Configure Django in this process against the bench database (for in-process calls)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "hive_ops.settings"
    os.environ["DEBUG"] = "true" if debug else "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def ensure_database(database_url: str) -> None:
    """Create the bench database if missing, then apply migrations (a no-op when up to date)."""
    import psycopg

    name = urlparse(database_url).path.lstrip("/")
    with psycopg.connect(psycopg_conninfo(database_url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [str(PYTHON), "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=django_env(database_url),
        check=True,
        stdout=sys.stderr,
    )


def create_token(database_url: str, *, team: str, name: str, scopes: str = "ingest,read") -> str:
    """A new API token via the real management command (the token is the last word printed)."""
    out = subprocess.run(
        [str(PYTHON), "manage.py", "create_api_token", "--team", team, "--name", name, "--scopes", scopes],
        cwd=ROOT,
        env=django_env(database_url),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()[-1]


@dataclass(frozen=True)
class Start:
    """What a script's main() holds after the common start."""

    conninfo: str  # of the bench database, for psycopg
    dbname: str
    started: float  # time.perf_counter() at the start, for the run's total time
    run: str  # a hex millisecond stamp naming this run's tokens and rows


def bench_start(database_url: str, *, django: bool = True, debug: bool = False) -> Start:
    """The start every script shares after its isolation check: SIGTERM and SIGHUP end it through
    its `finally` blocks, the bench database is made and migrated, and (unless `django` is False)
    Django is set up in this process."""
    stop_on_signals()
    started = time.perf_counter()
    ensure_database(database_url)
    if django:
        setup_django(database_url, debug=debug)
    run = f"{int(time.time() * 1000):x}"
    return Start(psycopg_conninfo(database_url), database_name(database_url), started, run)


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def http_get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 10.0):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Child:
    """A process of the project (server, worker) that a script starts against the bench database,
    in a session of its own (so it is stopped by its group id), its output in .run/<log_name>."""

    def __init__(self, database_url: str, *, debug: bool, log_name: str) -> None:
        self.database_url = database_url
        self.debug = debug
        self.proc: subprocess.Popen | None = None
        self.log_path = ROOT / ".run" / log_name

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def spawn(self, command: list[str]) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log_file:
            self.proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=django_env(self.database_url, debug=self.debug),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )


class Server(Child):
    """daphne serving hive_ops.asgi:application on 127.0.0.1:<port> against the bench database:
    `processes` daphne processes sharing the port through core/webserver.py (as the Procfile
    runs it), or one plain daphne when processes is 0."""

    def __init__(self, database_url: str, port: int, *, debug: bool = False, processes: int = 0) -> None:
        super().__init__(database_url, debug=debug, log_name=f"bench-daphne-{port}.log")
        self.port = port
        self.processes = processes

    def start(self) -> None:
        if port_open(self.port):
            raise SystemExit(f"port {self.port} is already in use; stop that server or pass --port")
        if self.processes > 0:
            command = [str(PYTHON), "-m", "core.webserver", "--host", HOST, "--port", str(self.port)]
            command += ["--processes", str(self.processes)]
        else:
            command = [str(DAPHNE), "-b", HOST, "-p", str(self.port), "hive_ops.asgi:application"]
        self.spawn(command)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"daphne exited with {self.proc.returncode}; see {self.log_path}")
            if port_open(self.port):
                with contextlib.suppress(OSError):
                    status, _ = http_get(self.port, "/api/v1/query_range")
                    if status in (401, 403):  # answering through Django, auth required
                        log(f"daphne pid {self.proc.pid} answering on {HOST}:{self.port} (log {self.log_path})")
                        return
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"daphne did not answer on port {self.port} within {SERVER_START_TIMEOUT_S}s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # Only the process group we created (start_new_session), by its id.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        log(f"daphne pid {self.proc.pid} stopped")


@contextlib.contextmanager
def server_running(
    database_url: str, port: int, *, debug: bool = False, reuse: bool = False, processes: int = 0
) -> Iterator[Server]:
    """Start daphne (or, with reuse=True, use whatever already answers on the port) and stop it after."""
    server = Server(database_url, port, debug=debug, processes=processes)
    if reuse and port_open(port):
        log(f"reusing the server already answering on {HOST}:{port} (it is not stopped afterwards)")
        yield server
        return
    server.start()
    try:
        yield server
    finally:
        server.stop()


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation), as load tools usually report it."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = min(len(ordered), max(1, math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def processes() -> Iterator[tuple[int, list[str]]]:
    """(pid, the fields of /proc/<pid>/stat after the command: state, parent, group, …) of every
    process still there when read."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        yield int(entry.name), fields


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (a launcher and its daphne workers)."""
    return cpu_seconds(pid) + sum(cpu_seconds(child) for child, fields in processes() if int(fields[1]) == pid)


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle since boot (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def postgres_backends(dbname: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to `dbname` (from its process title)."""
    found = {}
    marker = f" {dbname} ".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres:") and marker in title:
            found[int(entry.name)] = cpu_seconds(int(entry.name))
    return found


class CpuMeter:
    """Where the CPU went during a timed phase: our server, the bench database's backends, this
    client, and everything else on the machine (other people's work skews a benchmark: check
    `other_cpu_pct`). Percentages are of one core, so 200 means both cores of a 2-core machine."""

    def __init__(self, *, server_pid: int | None, dbname: str) -> None:
        self.server_pid = server_pid
        self.dbname = dbname

    def _snapshot(self) -> dict:
        return {
            "t": time.perf_counter(),
            "machine": machine_busy_seconds(),
            "client": sum(os.times()[:2]),
            "server": tree_cpu_seconds(self.server_pid) if self.server_pid else 0.0,
            "pg": postgres_backends(self.dbname),
        }

    def __enter__(self) -> CpuMeter:
        self.before = self._snapshot()
        return self

    def __exit__(self, *exc) -> None:
        self.after = self._snapshot()

    def report(self) -> dict:
        b, a = self.before, self.after
        wall = a["t"] - b["t"]
        pg = sum(cpu - b["pg"].get(pid, 0.0) for pid, cpu in a["pg"].items())
        ours = (a["server"] - b["server"]) + pg + (a["client"] - b["client"])
        machine = a["machine"] - b["machine"]

        def pct(seconds: float) -> int:
            return round(100 * seconds / wall)

        return {
            "server_cpu_pct": pct(a["server"] - b["server"]) if self.server_pid else None,
            "postgres_cpu_pct": pct(pg),
            "client_cpu_pct": pct(a["client"] - b["client"]),
            "machine_cpu_pct": pct(machine),
            "other_cpu_pct": max(0, pct(machine - ours)),
            "cpus": os.cpu_count(),
        }


def use_redis(redis_url: str) -> None:
    """Make every process started from here (server, worker, manage.py) use this Redis database."""
    os.environ["REDIS_URL"] = redis_url
    os.environ["CELERY_BROKER_URL"] = redis_url


def stop_on_signals() -> None:
    """Turn SIGTERM/SIGHUP into SystemExit, so `finally` blocks stop the server and clean up."""

    def handler(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def emit(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, separators=(", ", ": ")), flush=True)
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            print(f"{key:<{width}}  {value}")
