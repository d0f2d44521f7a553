"""HIVEOPS_BASE_URL: the one address every link in a notification starts with, and the start-up
checks that say so when it is wrong.

Under `make run`, honcho gives every Procfile process its own `PORT` (5000, 5100, …), so the base
URL must not be derived from `PORT`: the Makefile sets `HIVEOPS_BASE_URL` for all processes, and
the default is built from `HIVEOPS_HOST`/`HIVEOPS_PORT` (what the web process binds).

- The web process compares its bind address with the base URL (`warn_if_bind_differs`).
- Workers and beat GET `<base URL>/healthz` a short while after they start (`check_later`) and
  log a warning naming the URL when it does not answer: links in notifications would be dead.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

logger = logging.getLogger("core.base_url")

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
ANY_ADDRESS = {"0.0.0.0", "::", "[::]", ""}  # noqa: S104 (names, not a bind)
PROBE_TIMEOUT_S = 3


def default_base_url(*, host: str, port: int) -> str:
    """`http://host:port` of the web process; a wildcard bind is reached at 127.0.0.1."""
    if host in ANY_ADDRESS:
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _url_port(parts) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def bind_mismatch(*, base_url: str, host: str, port: int) -> str | None:
    """Why links to `base_url` would miss a web process bound to host:port, or None.

    Only a base URL on this machine (loopback or the bind host) is compared: behind a reverse
    proxy the public address legitimately differs from the bind address."""
    parts = urlsplit(base_url)
    base_host = (parts.hostname or "").lower()
    bind_host = host.lower().strip("[]")
    local = base_host in LOOPBACK or base_host == bind_host
    if not local:
        return None
    if _url_port(parts) != port:
        return f"the web process listens on port {port} but HIVEOPS_BASE_URL ({base_url}) uses port {_url_port(parts)}"
    if bind_host not in ANY_ADDRESS and bind_host not in LOOPBACK and base_host in LOOPBACK:
        return f"the web process listens on {host} only but HIVEOPS_BASE_URL ({base_url}) points at {base_host}"
    return None


def warn_if_bind_differs(environ: dict[str, str] | None = None) -> str | None:
    """Called by the web process (hive_ops/asgi.py). The bind address is known from
    HIVEOPS_HOST/HIVEOPS_PORT (the Procfile passes them to daphne); without them nothing is said."""
    from django.conf import settings

    environ = os.environ if environ is None else environ
    host, port = environ.get("HIVEOPS_HOST"), environ.get("HIVEOPS_PORT")
    if not host or not port or not port.isdigit():
        return None
    problem = bind_mismatch(base_url=settings.HIVEOPS_BASE_URL, host=host, port=int(port))
    if problem:
        logger.warning(
            "HIVEOPS_BASE_URL %s does not point at this web process: %s. The acknowledge and incident "
            "links in notifications will not reach it; set HIVEOPS_BASE_URL to the address people use.",
            settings.HIVEOPS_BASE_URL,
            problem,
        )
    return problem


def probe(base_url: str, *, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """GET <base_url>/healthz: None when it answers 200, else what went wrong."""
    url = f"{base_url}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http(s) from settings)
            return None if response.status == 200 else f"GET {url} answered {response.status}"
    except urllib.error.HTTPError as exc:
        hint = " (is its host in ALLOWED_HOSTS?)" if exc.code == 400 else ""
        return f"GET {url} answered {exc.code}{hint}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"GET {url} failed: {reason}"


def check(*, process: str, base_url: str, attempts: int = 5, interval: float = 3.0) -> str | None:
    """Probe the base URL up to `attempts` times; log the outcome. Returns the last problem or None."""
    problem = None
    for attempt in range(attempts):
        problem = probe(base_url)
        if problem is None:
            logger.info("%s: HIVEOPS_BASE_URL %s answers: notification links reach the web", process, base_url)
            return None
        if attempt + 1 < attempts:
            time.sleep(interval)
    logger.warning(
        "%s: HIVEOPS_BASE_URL %s does not answer (%s). The acknowledge and incident links in "
        "notifications will be dead: set HIVEOPS_BASE_URL to the address of the web process.",
        process,
        base_url,
        problem,
    )
    return problem


def check_later(process: str) -> threading.Thread | None:
    """Run `check` in a daemon thread after HIVEOPS_BASE_URL_CHECK_DELAY_S (0 turns it off)."""
    from django.conf import settings

    delay = settings.HIVEOPS_BASE_URL_CHECK_DELAY_S
    if delay <= 0:
        return None
    base_url = settings.HIVEOPS_BASE_URL

    def run() -> None:
        time.sleep(delay)
        check(process=process, base_url=base_url)

    thread = threading.Thread(target=run, name="base-url-check", daemon=True)
    thread.start()
    return thread


def connect_celery_signals() -> None:
    """Workers and beat check the base URL after they start (hive_ops/celery.py calls this)."""
    from celery.signals import beat_init, worker_ready

    worker_ready.connect(lambda **kwargs: check_later("worker"), weak=False)
    beat_init.connect(lambda **kwargs: check_later("beat"), weak=False)
