"""One transport class per notification kind, and the explicit map from kind to class."""

from __future__ import annotations

from paging.transports.email import EmailTransport
from paging.transports.pagerduty import PagerDutyTransport
from paging.transports.slack import SlackTransport
from paging.transports.teams import TeamsTransport
from paging.transports.webhook import WebhookTransport

TRANSPORTS: dict[str, type] = {
    "email": EmailTransport,
    "webhook": WebhookTransport,
    "slack": SlackTransport,
    "teams": TeamsTransport,
    "pagerduty": PagerDutyTransport,
}


def transport_for(kind: str):
    """A transport for a channel or contact-method kind; KeyError for an unknown kind."""
    return TRANSPORTS[kind]()
