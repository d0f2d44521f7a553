from __future__ import annotations

from paging.transports.base import Message, PermanentError, post_json

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITY = {1: "critical", 2: "error", 3: "warning", 4: "info", 5: "info"}


class PagerDutyTransport:
    """Forward to PagerDuty Events v2; the incident id is the dedup_key."""

    kind = "pagerduty"

    def send(self, target: str, config: dict, message: Message) -> None:
        routing_key = config.get("routing_key")
        if not routing_key:
            raise PermanentError("the channel has no routing_key")
        body = {"routing_key": routing_key, "event_action": message.action, "dedup_key": message.incident_id}
        if message.action == "trigger":
            body["payload"] = {
                "summary": message.subject[:1024],
                "source": message.service or "hiveops",
                "severity": SEVERITY.get(message.priority, "warning"),
            }
            body["links"] = [{"href": message.incident_url, "text": "HiveOps incident"}]
        post_json(config.get("url") or EVENTS_URL, body)
