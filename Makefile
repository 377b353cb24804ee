# AccountDesk. `make run` serves the demo; `make test` runs every test. Both work from a fresh clone.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app webapp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test test-deps bench bench-deps clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## run: migrate the database, load the demo into an empty one, serve on http://$(HOST):$(PORT)
# seed-demo and flask run read the same address, so the login hint names the port actually served.
run: export FLASK_RUN_HOST = $(HOST)
run: export FLASK_RUN_PORT = $(PORT)
run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) run

## test-deps: Debian's Chromium for the browser tests (root installs it; others are told how)
test-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "The browser tests need Chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

## test: every test (unit, HTTP, browser) on SQLite, and on PostgreSQL where TEST_DATABASE_URL names one
test: install test-deps
	$(BIN)/python -m pytest -n auto --durations=15

## bench-deps: wrk, the load generator of the concurrent run (root installs Debian's; others are told how)
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's wrk for the concurrent benchmark"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "The concurrent benchmark needs wrk: sudo apt-get install wrk (or BENCH_ARGS=--no-concurrent)" >&2; exit 1; fi; }

## bench: generate data; per page p50/p95 and queries one after another, p50/p99 and req/s at 4
## connections (wrk), CPU ms in-process. BENCH_ARGS="--before 8c1b923" compares with a commit.
bench: install $(if $(findstring --no-concurrent,$(BENCH_ARGS)),,bench-deps)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

## mutate: break each guarded rule in a copy of the checkout and check that the tests notice (minutes; not in CI)
mutate: install
	$(BIN)/python tests/mutations.py $(MUTATIONS)

clean:
	rm -rf $(VENV) .pytest_cache *.egg-info
