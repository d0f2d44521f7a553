from __future__ import annotations

import orjson

from paging.transports.base import Message, PermanentError, post_json, signature


class WebhookTransport:
    """JSON POST; with a secret, `X-HiveOps-Signature: sha256=<HMAC-SHA256 of the body>`."""

    kind = "webhook"

    def send(self, target: str, config: dict, message: Message) -> None:
        url = config.get("url") or target
        if not url.startswith(("http://", "https://")):
            raise PermanentError(f"not an http(s) URL: {url!r}")
        body = {
            "incident": {
                "id": message.incident_id,
                "title": message.title,
                "priority": message.priority,
                "status": message.status,
                "service": message.service,
                "url": message.incident_url,
            },
            "alerts": message.summary_lines,
            "acknowledge_url": message.ack_url,
        }
        headers = {}
        if config.get("secret"):
            headers["X-HiveOps-Signature"] = signature(config["secret"], orjson.dumps(body))
        post_json(url, body, headers)
