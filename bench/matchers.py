"""Catastrophic regular expressions against long label values: RE2 (the matcher HiveOps uses)
against Python's backtracking `re` as the baseline measured in the same run.

    .venv/bin/python bench/matchers.py --json

Goal (issue 19): `(a+)+$` against a long label value evaluates in < 10 ms. The baseline runs a
much shorter value (backtracking doubles its time per character), and its time per call is
reported together with the length it managed."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from metrics.matchers import Matcher

PATTERNS = ["(a+)+$", "(a|a)*b", "(a*)*c", "(.*a){12}"]


def time_call(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=100_000, help="label value length for RE2")
    parser.add_argument("--baseline-length", type=int, default=20, help="value length for Python re")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    value = "a" * args.length + "!"
    short = "a" * args.baseline_length + "!"
    rows = []
    for pattern in PATTERNS:
        matcher = Matcher("path", "=~", pattern)
        matcher.matches({"path": "warm"})  # compile once, as the cache does in service
        re2_ms = time_call(lambda m=matcher: m.matches({"path": value}), 5)
        backtracking = re.compile(f"(?:{pattern})\\Z")
        re_ms = time_call(lambda b=backtracking: b.match(short), 1)
        rows.append({"pattern": pattern, "re2_ms": round(re2_ms, 3), "python_re_ms_short": round(re_ms, 3)})
    worst = max(r["re2_ms"] for r in rows)
    result = {
        "value_length": args.length,
        "baseline_value_length": args.baseline_length,
        "patterns": rows,
        "re2_worst_ms": worst,
        "goal_ms": 10,
        "meets_goal": worst < 10,
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
