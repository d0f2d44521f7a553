"""Contextual novelty, in the spirit of CAD OSE (contextual anomaly detection): has this series
been seen in this situation before?

Each point is discretised into one of LEVELS value levels over the range learned so far. Its
contexts pair the current level with the *set* of levels of the last k points, for each k in
SPANS (sets, not sequences, so a context generalises over the order of recent values). A context
is looked up in a bounded memory of contexts seen before; the raw novelty of the point is the share
of its contexts that are new (a value outside the learned range is wholly new).

Memory: two hashed bit sets (generations) of MEMORY_BITS bits. New contexts are written into the
current generation; when it has taken FILL insertions it becomes the old one and a fresh current
starts, so contexts not met for two generations are forgotten (bounded memory, slow drift is
forgiven). A context found only in the old generation is copied forward. O(len(SPANS)) per point.

State: the levels of the last max(SPANS) points packed in one integer (4 bits each) and the two
bit sets, owned and serialised by the caller (`ContextState`).
"""

from __future__ import annotations

LEVELS = 16
SPANS = (1, 2, 3, 5, 8)
MEMORY_BITS = 1 << 13
FILL = MEMORY_BITS // 10
_BYTES = MEMORY_BITS // 8
_HISTORY_MASK = (1 << (4 * max(SPANS))) - 1
_SHIFT = 32 - (MEMORY_BITS.bit_length() - 1)


def memory_bytes() -> int:
    """Bytes of one generation's bit set."""
    return _BYTES


def level_of(x: float, lo: float, hi: float) -> int:
    """Level of x in [lo, hi] (0..LEVELS-1); -1 outside the range."""
    if x < lo or x > hi:
        return -1
    if hi <= lo:
        return 0
    return min(int((x - lo) / (hi - lo) * LEVELS), LEVELS - 1)


def _slot(span: int, mask: int, level: int) -> int:
    key = (mask * 0x9E3779B1 + level * 0x85EBCA77 + span * 0xC2B2AE3D) & 0xFFFFFFFF
    key = ((key ^ (key >> 15)) * 0x2C1B3C6D) & 0xFFFFFFFF
    return key >> _SHIFT


def novelty(history: int, count: int, level: int, new: bytearray, old: bytearray) -> tuple[float, int]:
    """(share of the point's contexts not seen before, insertions made into `new`).

    history: the levels of the previous points, most recent in the low 4 bits; count: how many
    previous points there are (contexts need a full span)."""
    if level < 0:
        return 1.0, 0
    novel = inserted = used = 0
    mask = 0
    span_at = 0
    for k in range(1, max(SPANS) + 1):
        if k > count:
            break
        mask |= 1 << ((history >> (4 * (k - 1))) & 15)
        if k != SPANS[span_at]:
            continue
        span_at += 1
        used += 1
        slot = _slot(k, mask, level)
        byte, bit = slot >> 3, 1 << (slot & 7)
        if not new[byte] & bit:
            if not old[byte] & bit:
                novel += 1
            new[byte] |= bit
            inserted += 1
    return (novel / used if used else 0.0), inserted


def push(history: int, level: int) -> int:
    """History after a point at `level` (out-of-range points count as the nearest edge level)."""
    return ((history << 4) | (level & 15)) & _HISTORY_MASK
