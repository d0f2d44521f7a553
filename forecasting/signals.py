"""Signals other apps subscribe to, so forecasting never imports them (data flows one way)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after scores commit: team_id=int, series={metric: [series ids]}.
points_scored = Signal()
# Sent after forecasts commit: team_id=int, series={metric: [series ids]}.
forecasts_refreshed = Signal()
