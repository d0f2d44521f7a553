"""The one report pipeline of every scheduled report mail (capacity digest, SLA report, executive
report): claim the period's send, render the mail, send it, release the claim when anything fails.

The claim is committed before rendering starts, so a retry of the task or a second worker that
runs the same period finds it taken and sends nothing; a failure (rendering or SMTP) releases it,
so the next scheduled run tries again. A crash between sending and the end leaves the claim in
place: a report is sent at most once, never twice.

Two kinds of claim cover the apps' tables: a row whose unique constraint is the claim
(`RowClaim`) and a conditional update of a column (`UpdateClaim`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

Attachment = tuple[str, bytes | str, str]  # file name, content, MIME type


class Claim:
    """One period's send of one report. `take` returns whether this caller got it."""

    def take(self) -> bool:
        raise NotImplementedError

    def release(self, error: Exception) -> None:
        raise NotImplementedError

    def confirm(self, message: EmailMultiAlternatives | None) -> None:
        """After a send (or when there was nobody to send to): record what went out."""


@dataclass
class RowClaim(Claim):
    """The claim is a row with a unique constraint (e.g. team + week): inserting it wins, an
    IntegrityError means someone else has it; releasing deletes it."""

    model: type[models.Model]
    fields: dict
    row: models.Model | None = None

    def take(self) -> bool:
        try:
            with transaction.atomic():
                self.row = self.model.objects.create(**self.fields)
        except IntegrityError:
            return False
        return True

    def release(self, error: Exception) -> None:
        if self.row is not None:
            self.model.objects.filter(pk=self.row.pk).delete()


@dataclass
class UpdateClaim(Claim):
    """The claim is a conditional UPDATE: `queryset` selects the row only while it is unclaimed,
    `claimed` are the values that mark it taken, `released` the values a failure puts back (only
    while the row still carries this claim). `on_confirm` records the outcome after a send."""

    queryset: models.QuerySet
    claimed: dict
    released: dict
    on_confirm: Callable[[EmailMultiAlternatives | None], None] | None = None
    on_release: Callable[[Exception], dict] | None = None
    pks: list = field(default_factory=list)

    def take(self) -> bool:
        with transaction.atomic():
            self.pks = list(self.queryset.select_for_update().values_list("pk", flat=True))
            if not self.pks:
                return False
            self.queryset.model.objects.filter(pk__in=self.pks).update(**self.claimed)
        return True

    def release(self, error: Exception) -> None:
        extra = self.on_release(error) if self.on_release else {}
        self.queryset.model.objects.filter(pk__in=self.pks, **self.claimed).update(**self.released, **extra)

    def confirm(self, message: EmailMultiAlternatives | None) -> None:
        if self.on_confirm is not None:
            self.on_confirm(message)


def report_email(
    *,
    subject: str,
    template: str,
    context: dict,
    to: list[str],
    attachments: Iterable[Attachment] = (),
) -> EmailMultiAlternatives:
    """A report mail: `template`.txt as the text body, `template`.html as the HTML alternative."""
    mail = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
    mail.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    for name, content, mime in attachments:
        mail.attach(name, content, mime)
    return mail


def report_send(*, claim: Claim, render: Callable[[], EmailMultiAlternatives | None], what: str) -> bool:
    """Claim, render, send, release on failure. `render` returns the mail, or None when there is
    nobody to send it to (the claim stays: the period is done). True when a mail went out."""
    if not claim.take():
        return False
    try:
        message = render()
        if message is not None:
            message.send()
    except Exception as exc:
        logger.warning("%s not sent (%s); the claim is released and the next run retries", what, exc, exc_info=True)
        claim.release(exc)
        return False
    claim.confirm(message)
    return message is not None
