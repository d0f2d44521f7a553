"""The SMTP side of the mail sink: an aiosmtpd handler that keeps every message it accepts."""

from __future__ import annotations

import logging

from asgiref.sync import sync_to_async
from django.db import close_old_connections

from mailsink.services import mail_store

logger = logging.getLogger(__name__)


def _store(sender: str, recipients: list[str], content: bytes) -> int:
    close_old_connections()  # the sink runs for days; PostgreSQL may have restarted meanwhile
    return mail_store(sender=sender, recipients=recipients, content=content).pk


class SinkHandler:
    """aiosmtpd calls handle_DATA once per message; the database write runs in a thread."""

    async def handle_DATA(self, server, session, envelope) -> str:
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", errors="replace")
        try:
            pk = await sync_to_async(_store)(envelope.mail_from or "", list(envelope.rcpt_tos), content)
        except Exception:
            logger.exception("mail sink: message from %s not stored", envelope.mail_from)
            return "451 Requested action aborted: not stored"
        logger.info("mail sink: kept message %s to %s", pk, ", ".join(envelope.rcpt_tos))
        return "250 Message accepted"
