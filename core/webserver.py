"""Several daphne processes answering on one port: `python -m core.webserver`.

One daphne process runs Python on one core at a time (the GIL), and the ingest path is CPU work
in Python (parsing, checks) between short waits on PostgreSQL. On a machine with more than one
core a single process leaves cores idle while requests queue (docs/architecture.md, "Hot paths:
where the time goes"). This launcher binds the listening socket once and starts `--processes`
daphne processes that all accept on it (`daphne --fd`): the kernel hands each new connection to
one of them, and every daphne-specific guard (core/daphne_limit.py, metrics/export_flow.py)
keeps working because each worker is a plain daphne.

State kept per process stays correct with several: caches are only caches (series ids, label
sets, partitions), live events go through Redis, and /metrics adds the processes up when
PROMETHEUS_MULTIPROC_DIR is set (`make run` sets it; see docs/deployment.md).

When any worker exits, the others are stopped and the launcher exits with its status, so a
supervisor (honcho, systemd) sees the failure and restarts the whole set.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DAPHNE = Path(sys.executable).with_name("daphne")
STOP_TIMEOUT_S = 15


def default_processes() -> int:
    """WEB_PROCESSES, else one per core: measured best for ingest on 2 cores (docs/architecture.md)."""
    configured = os.environ.get("WEB_PROCESSES", "").strip()
    if configured:
        return max(1, int(configured))
    return max(1, os.cpu_count() or 1)


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def stop_all(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for worker in workers:
        try:
            worker.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def serve(*, host: str, port: int, processes: int, daphne_args: list[str]) -> int:
    sock = listen(host, port)
    fd = sock.fileno()
    command = [str(DAPHNE), "--fd", str(fd), *daphne_args, "hive_ops.asgi:application"]
    workers = [subprocess.Popen(command, pass_fds=[fd]) for _ in range(processes)]  # noqa: S603 (our own argv)
    print(f"webserver: {processes} daphne processes on {host}:{port}", file=sys.stderr, flush=True)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    try:
        while True:
            pid, code = os.wait()
            if any(worker.pid == pid for worker in workers):
                status = os.waitstatus_to_exitcode(code) or 1
                print(f"webserver: worker {pid} exited ({status}); stopping the others", file=sys.stderr)
                break
    except SystemExit:
        status = 0
    finally:
        stop_all(workers)
        sock.close()
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("HIVEOPS_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("HIVEOPS_PORT", "8000")))
    parser.add_argument("--processes", type=int, default=None, help="daphne processes (default WEB_PROCESSES or cores)")
    args, daphne_args = parser.parse_known_args(argv)
    processes = args.processes if args.processes is not None else default_processes()
    return serve(host=args.host, port=args.port, processes=max(1, processes), daphne_args=daphne_args)


if __name__ == "__main__":
    sys.exit(main())
