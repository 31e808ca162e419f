# kitops: `make run` to use it, `make test` to check it. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_PROBE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
PYTEST_ARGS ?=

.PHONY: run test check lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "kitops needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed-run

## run: install, migrate the database, load the demo data when it is empty, start the terminal UI
run: $(VENV)/.installed-run
	$(BIN)/kitops db upgrade
	$(BIN)/kitops demo --if-empty
	$(BIN)/kitops tui

## test: lint, type-check and run the whole suite (PostgreSQL too when one answers locally)
test: $(VENV)/.installed-test lint typecheck pytest

check: test

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

pytest: $(VENV)/.installed-test
	@if [ -z "$$KITOPS_TEST_PG_URL" ] && $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_PROBE_URL)', connect_timeout=2).close()" 2>/dev/null; then \
		echo "PostgreSQL answers on 127.0.0.1:5432: running the PostgreSQL tests too"; \
		export KITOPS_TEST_PG_URL='$(PG_PROBE_URL)'; \
	fi; \
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/cli_startup.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
