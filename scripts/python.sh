#!/usr/bin/env bash
# Print the path of a Python 3.11 interpreter with venv support, installing Debian's if needed.
set -euo pipefail
for candidate in python3.11 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    command -v "$candidate"; exit 0
  fi
done
echo "Installing Python 3.11 (Debian packages)…" >&2
if [ "$(id -u)" -ne 0 ]; then echo "error: Python 3.11 with venv is missing; run as root or install python3.11-venv" >&2; exit 1; fi
apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv python3.11-dev >&2
command -v python3.11
