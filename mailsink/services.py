"""Writes of the mail sink: keep one received message, and only the newest ones."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from django.conf import settings
from django.db import transaction

from mailsink.models import SentMail

MAX_BODY_CHARS = 200_000


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    try:
        return part.get_content()[:MAX_BODY_CHARS]
    except (LookupError, ValueError):  # unknown charset, broken encoding
        return part.get_payload(decode=True).decode("utf-8", errors="replace")[:MAX_BODY_CHARS]


def mail_store(*, sender: str, recipients: list[str], content: bytes) -> SentMail:
    """Parse a message as received over SMTP and keep it; older ones beyond the limit go."""
    message = BytesParser(policy=policy.default).parsebytes(content)
    mail = SentMail(
        sender=sender[:500],
        recipients=sorted({r.strip().lower() for r in recipients if r.strip()}),
        subject=str(message.get("Subject", ""))[:1000],
        text=_body(message, "plain"),
        html=_body(message, "html"),
    )
    with transaction.atomic():
        mail.save()
        mail_prune(keep=settings.HIVEOPS_MAILSINK_KEEP)
    return mail


def mail_prune(*, keep: int) -> int:
    """Delete all but the newest `keep` messages; returns how many went."""
    stale = SentMail.objects.order_by("-received_at", "-id").values_list("pk", flat=True)[keep:]
    deleted, _ = SentMail.objects.filter(pk__in=list(stale)).delete()
    return deleted
