"""Kept so imports written before the move keep working: the implementation is
`metrics/matchers.py` (RE2, Alertmanager's syntax), shared with PromQL and exports."""

from metrics.matchers import MatcherError, matches, matches_one, parse, render, validate

__all__ = ["MatcherError", "matches", "matches_one", "parse", "render", "validate"]
