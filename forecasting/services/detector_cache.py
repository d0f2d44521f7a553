"""Detectors kept in the worker's memory between tasks, so a point costs a lookup instead of
loading and saving ~12 KB of state. The database copy (state + state_ts) is refreshed every few
minutes; a worker that finds its copy stale (another worker scored the series since, the models
were retrained, or it restarted) loads the stored state and replays the samples after state_ts,
which gives exactly the detector an uninterrupted run would have (detectors are deterministic).

An entry is taken out while a transaction uses it and put back only when that transaction
commits: a rolled-back run can never leave a detector that has seen points the cursor has not."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings


@dataclass
class Entry:
    cursor: datetime | None  # the row's last_ts this detector has consumed up to
    trained_at: datetime | None
    detector: object


_entries: OrderedDict[int, Entry] = OrderedDict()


def take(series_id: int, *, cursor: datetime | None, trained_at: datetime | None):
    """The cached detector if it is exactly where the database says the series is, else None."""
    entry = _entries.pop(series_id, None)
    if entry is None or entry.cursor != cursor or entry.trained_at != trained_at:
        return None
    return entry.detector


def put(series_id: int, entry: Entry) -> None:
    _entries[series_id] = entry
    _entries.move_to_end(series_id)
    while len(_entries) > settings.HIVEOPS_DETECTOR_CACHE_SIZE:
        _entries.popitem(last=False)


def clear() -> None:
    _entries.clear()


def size() -> int:
    return len(_entries)
