# HiveOps: `make run` sets everything up and starts the demo; `make test` sets up and runs the suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1
MAIL_PORT ?= 8025
# Every link in a notification starts with this; a wildcard bind is reached at 127.0.0.1.
HIVEOPS_BASE_URL ?= http://$(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST)):$(PORT)

# The environment of every `make run` process (web, worker, beat, mail sink, demo data). honcho
# gives each process its own PORT, so nothing may be derived from PORT: the base URL is set here.
# Development mode is on explicitly; mail goes to the local sink (the "Mail" page lists it).
RUN_ENV = HIVEOPS_HOST=$(HOST) HIVEOPS_PORT=$(PORT) HIVEOPS_BASE_URL=$(HIVEOPS_BASE_URL) DEBUG=true \
	EMAIL_HOST=127.0.0.1 EMAIL_PORT=$(MAIL_PORT) HIVEOPS_MAILSINK=true \
	PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/.run/prometheus

.PHONY: run run-env test setup services database migrate browser protocol-clients lint format bench clean-run

run: migrate
	@rm -rf .run/prometheus && mkdir -p .run/prometheus  # /metrics adds up web and worker processes
	@env $(RUN_ENV) $(PY) manage.py demo_setup
	@env $(RUN_ENV) $(PY) manage.py demo_content  # SLOs, SLA, capacity, rotation, incidents: every page has content
	@exec env $(RUN_ENV) $(VENV)/bin/honcho start -f Procfile

# Prints the environment `make run` gives its processes, one VAR=value a line (tests/e2e use it).
run-env:
	@printf '%s\n' $(RUN_ENV)

# Tests use their own Redis database so they never touch a running instance's queue or cache.
test: migrate browser protocol-clients
	@REDIS_URL=redis://127.0.0.1:6379/15 $(PY) -m pytest

setup: $(VENV)/.installed services database

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || "$$(bash scripts/python.sh)" -m venv $(VENV)
	@$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

services:
	@bash scripts/services.sh

database: services
	@bash scripts/database.sh

migrate: setup
	@$(PY) manage.py migrate --noinput

browser:
	@bash scripts/chromium.sh

protocol-clients:
	@bash scripts/protocol_clients.sh

lint: $(VENV)/.installed
	@$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	@$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

bench: migrate
	@$(PY) bench/ingest.py --json && $(PY) bench/query.py --json
