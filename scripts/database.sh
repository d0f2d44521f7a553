#!/usr/bin/env bash
# Create the hiveops role (allowed to create the test database) and database. Idempotent.
set -euo pipefail
DB_USER=${HIVEOPS_DB_USER:-hiveops}
DB_PASS=${HIVEOPS_DB_PASSWORD:-hiveops}
DB_NAME=${HIVEOPS_DB_NAME:-hiveops}

psql_admin() {
  if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then
    runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qAt "$@"
  else
    psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qAt "$@"
  fi
}

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" != "1" ]; then
  psql_admin -c "CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASS'"
  echo "Created role $DB_USER."
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != "1" ]; then
  psql_admin -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"
  echo "Created database $DB_NAME."
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")" = "1" ]; then
  echo "TimescaleDB is available: migrations use a hypertable and continuous aggregates."
else
  echo "TimescaleDB is not installed: using native PostgreSQL partitions (see docs/architecture.md)."
fi
