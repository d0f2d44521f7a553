from __future__ import annotations

from paging.transports.base import Message, post_json
from paging.transports.markup import teams_text


class TeamsTransport:
    """Microsoft Teams incoming webhook (an Adaptive Card message). Text from an alert is escaped
    for the card's Markdown, so `[label](url)` or `**x**` arrive as written."""

    kind = "teams"

    def send(self, target: str, config: dict, message: Message) -> None:
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {
                    "type": "TextBlock",
                    "size": "Medium",
                    "weight": "Bolder",
                    "text": teams_text(message.subject),
                    "wrap": True,
                },
                {"type": "TextBlock", "text": teams_text(message.service or "no service"), "isSubtle": True},
                *({"type": "TextBlock", "text": teams_text(line), "wrap": True} for line in message.summary_lines[:10]),
            ],
            "actions": [
                {"type": "Action.OpenUrl", "title": "Acknowledge", "url": message.ack_url},
                {"type": "Action.OpenUrl", "title": "Open", "url": message.incident_url},
            ],
        }
        post_json(
            config.get("url") or target,
            {
                "type": "message",
                "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
            },
        )
