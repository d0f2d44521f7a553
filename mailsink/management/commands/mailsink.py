"""`manage.py mailsink`: a local SMTP server that keeps what it receives for the "Mail" page."""

from __future__ import annotations

import signal
import threading

from aiosmtpd.controller import Controller
from django.core.management.base import BaseCommand

from mailsink.smtp import SinkHandler


class Command(BaseCommand):
    help = "Run the local mail sink: an SMTP server whose messages the Mail page lists (development)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8025)

    def handle(self, *args, host: str, port: int, **options) -> None:
        controller = Controller(SinkHandler(), hostname=host, port=port)
        controller.start()
        self.stdout.write(f"mail sink listening on {host}:{port} (SMTP); messages are listed at /mail/")
        self.stdout.flush()
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        try:
            stop.wait()
        finally:
            controller.stop()
