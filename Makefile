# Bazaar — the two commands users need are `make run` and `make test`.
# Both work on a fresh machine: they create .venv and install what they need.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
HOST ?= 127.0.0.1
PORT ?= 8000

export BAZAAR_DATABASE_URL ?= sqlite:///./var/bazaar.db

.PHONY: run test lint bench migrate demo install install-test clean help

help:
	@echo "make run    - install, migrate, load the demo, serve on http://$(HOST):$(PORT)"
	@echo "make test   - install with test extras and run the whole suite"
	@echo "make lint   - ruff and mypy --strict"
	@echo "make bench  - benchmark scenarios (see bench/README.md)"

$(BIN)/pip:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)
install-test: $(STAMP_TEST)

migrate: install
	$(BIN)/bazaar migrate

demo: migrate
	$(BIN)/bazaar demo

run: demo
	$(BIN)/bazaar serve --host $(HOST) --port $(PORT)

# PostgreSQL, Redis and NATS are expected at their standard local ports (or at
# BAZAAR_TEST_POSTGRES_URL / BAZAAR_TEST_REDIS_URL / BAZAAR_TEST_NATS_URL).
test: install-test
	$(BIN)/pytest -p no:cacheprovider

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

BENCH_ARGS ?=
# catalog_scale generates its catalog once (bench/results/catalog-<N>.db) and reuses it;
# the issue's figures are for --products 1000000 (about an hour to generate on two cores).
CATALOG_BENCH_ARGS ?= --products 100000

bench: install
	@command -v wrk >/dev/null 2>&1 || { \
		SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
	} || echo "bench: could not install wrk; using the Python load generator" >&2
	$(PY) bench/http_products.py $(BENCH_ARGS)
	$(PY) bench/catalog_scale.py $(CATALOG_BENCH_ARGS)

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache build dist src/*.egg-info
