from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import orjson
import requests

TIMEOUT_S = 5


class TransientError(Exception):
    """Worth retrying: network trouble, 5xx, 429."""


class PermanentError(Exception):
    """Retrying will not help: a 4xx, a refused address, bad configuration."""


@dataclass(frozen=True)
class Message:
    incident_id: str
    title: str
    priority: int
    status: str
    service: str
    summary_lines: list[str]
    incident_url: str
    ack_url: str
    resolve_url: str
    action: str = "trigger"  # trigger, acknowledge, resolve (PagerDuty forward)

    @property
    def subject(self) -> str:
        return f"[P{self.priority}] {self.title}"


def post_json(url: str, body: dict, headers: dict | None = None) -> None:
    data = orjson.dumps(body)
    try:
        response = requests.post(
            url, data=data, timeout=TIMEOUT_S, headers={"Content-Type": "application/json", **(headers or {})}
        )
    except requests.RequestException as exc:
        raise TransientError(f"{type(exc).__name__}: {exc}") from None
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientError(f"HTTP {response.status_code}: {response.text[:200]}")
    if response.status_code >= 400:
        raise PermanentError(f"HTTP {response.status_code}: {response.text[:200]}")


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
