"""SLAs and SLOs: recorded per-minute SLIs, error budgets, burn-rate alerts and SLA reports."""
