#!/usr/bin/env bash
# Make sure PostgreSQL (15+) and Redis are installed and running on this machine.
# Installs them with apt-get when missing (needs root); starts them when stopped. Idempotent.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "error: '$*' needs root. Install PostgreSQL and Redis yourself, or run as root." >&2; exit 1; fi
}

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

pg_ready() { pg_isready -h 127.0.0.1 -p "${PGPORT:-5432}" -q 2>/dev/null; }
redis_ready() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  echo "Installing PostgreSQL…"
  apt_install postgresql postgresql-contrib
fi
if ! pg_ready; then
  echo "Starting PostgreSQL…"
  for version in $(ls /etc/postgresql); do
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
  pg_ready || { echo "error: PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
fi

if ! command -v redis-server >/dev/null; then
  echo "Installing Redis…"
  apt_install redis-server
fi
if ! redis_ready; then
  echo "Starting Redis…"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --dir /var/lib/redis \
    --logfile /var/log/redis/hiveops.log
  for _ in $(seq 1 20); do redis_ready && break; sleep 0.5; done
  redis_ready || { echo "error: Redis did not start on 127.0.0.1:6379" >&2; exit 1; }
fi
echo "PostgreSQL and Redis are up."
