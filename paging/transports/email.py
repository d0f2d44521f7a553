from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from paging.transports.base import Message, PermanentError, TransientError


class EmailTransport:
    kind = "email"

    def send(self, target: str, config: dict, message: Message) -> None:
        recipients = config.get("to") or [target]
        context = {"m": message}
        mail = EmailMultiAlternatives(
            subject=message.subject,
            body=render_to_string("emails/incident.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=recipients,
        )
        mail.attach_alternative(render_to_string("emails/incident.html", context), "text/html")
        try:
            mail.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentError(f"recipient refused: {exc.recipients}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from None
