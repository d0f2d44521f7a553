# HiveOps: `make run` sets everything up and starts the demo; `make test` sets up and runs the suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1
export HIVEOPS_PORT := $(PORT)
export HIVEOPS_HOST := $(HOST)

.PHONY: run test setup services database migrate browser lint format bench clean-run

run: migrate
	@$(PY) manage.py demo_setup --url http://$(HOST):$(PORT)/
	@rm -rf .run/prometheus && mkdir -p .run/prometheus  # /metrics adds up web and worker processes
	@PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/.run/prometheus exec $(VENV)/bin/honcho start -f Procfile

# Tests use their own Redis database so they never touch a running instance's queue or cache.
test: migrate browser
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

lint: $(VENV)/.installed
	@$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	@$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

bench: migrate
	@$(PY) bench/ingest.py --json && $(PY) bench/query.py --json
