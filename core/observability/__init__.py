"""HiveOps observing itself: /healthz, /readyz (heartbeats of beat and workers) and /metrics."""
