from __future__ import annotations

import time
from pathlib import Path

import requests
from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from metrics.demo import demo_series, payload

STEP_S = 60
CHUNK_S = 6 * 3600


class Command(BaseCommand):
    help = "Send simulated demo metrics through the real ingest API: a backfill, then live points."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--token-file", default=str(Path(settings.RUN_DIR) / "demo_token"))
        parser.add_argument("--backfill-hours", type=int, default=48)
        parser.add_argument("--interval", type=int, default=15, help="seconds between live sends")
        parser.add_argument("--once", action="store_true", help="backfill and stop")

    def handle(self, *args, url: str, token_file: str, backfill_hours: int, interval: int, once: bool, **opts):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {Path(token_file).read_text().strip()}"
        endpoint = url.rstrip("/") + "/api/v1/ingest"
        series = demo_series()
        self._wait_for(session, url.rstrip("/") + "/login/")
        now = int(time.time()) // STEP_S * STEP_S
        start = now - backfill_hours * 3600
        chunks = range(start, now, CHUNK_S)
        for chunk_start in tqdm(chunks, desc="demo backfill", unit="chunk", disable=not chunks):
            stamps = list(range(chunk_start, min(chunk_start + CHUNK_S, now), STEP_S))
            self._send(session, endpoint, payload(series, stamps))
        if once:
            return
        last = now - STEP_S
        while True:
            now = int(time.time()) // STEP_S * STEP_S
            stamps = list(range(last + STEP_S, now + 1, STEP_S))
            if stamps:
                self._send(session, endpoint, payload(series, stamps))
                last = stamps[-1]
            time.sleep(interval)

    def _wait_for(self, session: requests.Session, page: str) -> None:
        for _ in range(120):
            try:
                session.get(page, timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(1)
        raise SystemExit(f"the web server at {page} did not come up")

    def _send(self, session: requests.Session, endpoint: str, body: dict) -> None:
        for attempt in range(5):
            try:
                response = session.post(endpoint, json=body, timeout=30)
            except requests.ConnectionError:
                time.sleep(2**attempt)
                continue
            if response.status_code < 500:
                if response.status_code != 200:
                    self.stderr.write(f"demo ingest rejected: {response.status_code} {response.text[:300]}")
                return
            time.sleep(2**attempt)
        self.stderr.write("demo ingest failed after retries; continuing")
