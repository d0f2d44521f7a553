"""The long profile of the paging state machine (tests/paging/test_paging_stateful.py): the same
machine and invariants, for many more random sequences than `make test` runs (200).

It runs the test with pytest in chunks (`--chunk` sequences each, a fresh random seed each), so
progress is visible and a stopped run still says how many sequences passed. It stops at the first
chunk that finds a violation and prints Hypothesis's shrunk counterexample.

Isolation: test database `test_paging_bench` (created and migrated by pytest-django on the first
run, reused after) and Redis database 14 — never `hiveops`, `test_hiveops` or Redis 0.

    .venv/bin/python bench/paging_stateful.py --sequences 5000 --json

One JSON line on stdout: sequences, steps (min per sequence), violations, duration, the time per
sequence of the first chunk (the baseline) and of the whole run (load on the machine shows as a
difference between the two)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
TEST = "tests/paging/test_paging_stateful.py::test_the_paging_loop_keeps_its_invariants"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_chunk(sequences: int, env: dict[str, str]) -> tuple[dict, str, bool]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as report:
        path = report.name
    env = {**env, "HIVEOPS_PAGING_SEQUENCES": str(sequences), "HIVEOPS_PAGING_REPORT": path}
    command = [str(PYTHON), "-m", "pytest", TEST, "-x", "-q", "-p", "no:logging", "--show-capture=no"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    try:
        stats = json.loads(Path(path).read_text() or "{}")
    except (OSError, ValueError):
        stats = {}
    finally:
        Path(path).unlink(missing_ok=True)
    return stats, done.stdout[-6000:], done.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequences", type=int, default=5000, help="random sequences in all (default %(default)s)")
    parser.add_argument("--chunk", type=int, default=250, help="sequences per pytest run (default %(default)s)")
    parser.add_argument("--database", default="test_paging_bench", help="test database (default %(default)s)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="default %(default)s")
    parser.add_argument("--json", action="store_true", help="one JSON line on stdout (progress on stderr)")
    args = parser.parse_args()
    if args.database in ("hiveops", "test_hiveops") or not args.database.startswith("test_"):
        raise SystemExit(f"refusing database {args.database!r}: use a test_* database of its own")
    if args.redis_url.rstrip("/").endswith("/0"):
        raise SystemExit("refusing Redis database 0 (the development server's)")
    env = {**os.environ, "TEST_DATABASE_NAME": args.database, "REDIS_URL": args.redis_url}
    totals = {"sequences": 0, "steps": 0, "min_steps": None, "violations": 0, "chunks": 0}
    counted = ("steps", "messages_received", "escalations", "escalations_stopped_or_paused", "notifications")
    counted += ("notifications_sent",)
    totals.update(dict.fromkeys(counted[1:], 0))
    started = time.monotonic()
    baseline = None
    failure = ""
    while totals["sequences"] < args.sequences:
        size = min(args.chunk, args.sequences - totals["sequences"])
        chunk_started = time.monotonic()
        stats, output, passed = run_chunk(size, env)
        elapsed = time.monotonic() - chunk_started
        totals["chunks"] += 1
        totals["sequences"] += stats.get("sequences", 0)
        for name in counted:
            totals[name] += stats.get(name, 0)
        if stats.get("min_steps") is not None:
            low = totals["min_steps"]
            totals["min_steps"] = stats["min_steps"] if low is None else min(low, stats["min_steps"])
        if baseline is None and stats.get("sequences"):
            baseline = elapsed / stats["sequences"]
        log(f"chunk {totals['chunks']}: {stats.get('sequences', 0)} sequences in {elapsed:.0f} s, total {totals}")
        if not passed:
            totals["violations"] += 1
            failure = output
            log(output)
            break
    duration = time.monotonic() - started
    result = {
        "bench": "paging_stateful",
        **totals,
        "duration_s": round(duration, 1),
        "baseline_s_per_sequence": round(baseline, 3) if baseline else None,
        "s_per_sequence": round(duration / totals["sequences"], 3) if totals["sequences"] else None,
        "failure": failure[-3000:] if failure else "",
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    sys.exit(1 if failure else 0)


if __name__ == "__main__":
    main()
