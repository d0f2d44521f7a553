from __future__ import annotations

from paging.transports.base import Message, post_json
from paging.transports.markup import slack_text


class SlackTransport:
    """Slack incoming webhook: a message with acknowledge and resolve links. Every text from an
    alert is escaped for mrkdwn, so `<!channel>` or `<https://x|label>` arrive as plain text."""

    kind = "slack"

    def send(self, target: str, config: dict, message: Message) -> None:
        lines = "\n".join(f"• {slack_text(line)}" for line in message.summary_lines[:10])
        subject = slack_text(message.subject)
        text = f"*{subject}* ({slack_text(message.service or 'no service')})\n{lines}"
        post_json(
            config.get("url") or target,
            {
                "text": subject,
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": text}},
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "text": {"type": "plain_text", "text": "Acknowledge"},
                                "url": message.ack_url,
                                "style": "primary",
                            },
                            {
                                "type": "button",
                                "text": {"type": "plain_text", "text": "Resolve"},
                                "url": message.resolve_url,
                            },
                            {
                                "type": "button",
                                "text": {"type": "plain_text", "text": "Open"},
                                "url": message.incident_url,
                            },
                        ],
                    },
                ],
            },
        )
