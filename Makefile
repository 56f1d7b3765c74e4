# CVRE: `make help` lists the targets. Everything runs from a local .venv built from requirements.lock.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install demo test lint bench clean browser services

help:  ## Show the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock \
	  || $(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e . \
	  || $(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)  ## Create .venv and install the pinned set (requirements.lock)

demo: $(STAMP)  ## The main job on a 20k-deal world: features, 3 models, leakage, dashboards, drivers, drift
	$(BIN)/cvre demo --out data/demo

browser:  ## Install headless Chromium and its driver for the dashboard tests (Debian packages)
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
	  || echo "WARNING: could not install chromium/chromium-driver; the browser tests will fail (apt-get install chromium chromium-driver)"; }

services:  ## Install PostgreSQL and nginx for the team-deployment tests (Debian packages; tests/deploy starts them)
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && test -x /usr/sbin/nginx || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql nginx \
	  || echo "WARNING: could not install postgresql/nginx; the team-deployment tests will be skipped (apt-get install postgresql nginx)"; }

test: $(STAMP) browser services  ## Run the whole test suite (slow tests included)
	$(BIN)/python -m pytest -q

lint: $(STAMP)  ## ruff over the whole tree
	$(BIN)/ruff check .

bench: $(STAMP)  ## Benchmarks (minutes; writes benchmarks/results/*.json)
	$(BIN)/python -m uv pip install -q --python $(BIN)/python psutil || $(BIN)/uv pip install -q --python $(BIN)/python psutil
	$(BIN)/python benchmarks/simulate.py
	$(BIN)/python benchmarks/features.py

clean:  ## Remove generated data (keeps .venv)
	rm -rf data
