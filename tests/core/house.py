"""The house rules read off the source with `ast`: layers, local imports, module and function size.

Used by tests/core/test_house.py; `python -m tests.core.house` prints the figures."""

from __future__ import annotations

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Floors, bottom up; an app may import its own floor's modules only within itself and any floor below.
FLOORS = {
    "core": 0,
    "metrics": 1,
    "forecasting": 2,
    "alerts": 3,
    "paging": 4,
    "slo": 5,
    "catalog": 1,
    "capacity": 5,
    "insight": 5,
    "recommendations": 6,
    "bi": 7,
    "mailsink": 8,
    "hive_ops": 9,
}
SKIP = {"migrations", "__pycache__", ".venv", "tests", "bench", "static", "node_modules"}


def app_files():
    for app in FLOORS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if not SKIP.intersection(path.relative_to(ROOT).parts):
                yield app, path


def imported_apps(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        names = [node.module]
    else:
        return []
    return [name.split(".")[0] for name in names if name.split(".")[0] in FLOORS]


def survey() -> dict:
    upward, local, long_functions, long_modules = [], [], [], []
    for app, path in app_files():
        text = path.read_text()
        lines = text.splitlines()
        where = str(path.relative_to(ROOT))
        if len(lines) > 600:
            long_modules.append(f"{where}: {len(lines)} lines")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > 80:
                    long_functions.append(f"{where}:{node.lineno} {node.name}: {length} lines")
                for inner in ast.walk(node):
                    if imported_apps(inner):
                        line = lines[inner.lineno - 1]
                        local.append({"at": f"{where}:{inner.lineno}", "why": "#" in line})
            for other in imported_apps(node):
                if other != app and FLOORS[other] > FLOORS[app] and app != "hive_ops":
                    upward.append(f"{where}:{node.lineno} imports {other}")
    return {
        "upward imports": upward,
        "function-local imports": local,
        "functions over 80 lines": long_functions,
        "modules over 600 lines": long_modules,
    }


if __name__ == "__main__":
    print(json.dumps(survey(), indent=1))
