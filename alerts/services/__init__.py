"""Every state change of alerts and incidents goes through these functions."""
