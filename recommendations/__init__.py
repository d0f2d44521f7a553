"""The recommendations feed: what leads should do next, from capacity, SLOs, forecasts, alert
quality, service ownership and on-call coverage, with accept/dismiss."""
