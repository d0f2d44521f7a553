"""Signals other apps subscribe to, so metrics never imports them (data flows one way)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after a batch commits: team_id=int, series={metric: [series ids]}.
samples_ingested = Signal()
