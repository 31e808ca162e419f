# kitops: `make run` to use it, `make test` to check it. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_PROBE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
PYTEST_ARGS ?=
# two workers on two cores (pytest-xdist): the TUI tests wait on the screen and PostgreSQL
# on the disk while the other worker computes; `make pytest` lets a worker that runs out
# take tests from the other (--dist worksteal), so neither idles while a long one runs
PYTEST_WORKERS ?= 2
# pytest keeps the test modules it rewrote (assertion rewriting) in __pycache__ unless
# PYTHONDONTWRITEBYTECODE is set; where it is (some shells and sandboxes set it), every
# worker of every run parsed and rewrote all 300-odd test modules and plugins again: 14 s
# of CPU per worker to collect the suite instead of 6. The test targets unset it for
# pytest (the caches are ignored by git), and bring the compiled kitops and tui up to date
# first, since a process that may not write bytecode compiles an edited module afresh in
# each of the thousands of kitops processes the suite starts.
PYTEST_ENV := PYTHONDONTWRITEBYTECODE=
# the instants the date-sensitive tests are proven on (`make test-dates`): both clock
# changes in London at 23:30, a leap day, the last minute of a year, and today
TEST_DATES ?= 2027-03-28T23:30[Europe/London] 2027-10-31T23:30[Europe/London] 2028-02-29 2026-12-31T23:59Z today
DATED_TESTS ?= tests/unit tests/integration tests/e2e

.PHONY: run serve test test-fast test-dates check lint typecheck pytest bench bench-chain pictures clean catalogs messages

# the translations: each language's catalog (.po, edited by translators) compiles to the .mo
# kitops reads (`make catalogs`, run before anything starts kitops)
PO_FILES := $(wildcard kitops/locale/*/LC_MESSAGES/kitops.po)
MO_FILES := $(PO_FILES:.po=.mo)

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "kitops needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m compileall -q kitops tui
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m compileall -q kitops tui
	touch $@ $(VENV)/.installed-run

%.mo: %.po | $(BIN)/python
	$(BIN)/python -m babel.messages.frontend compile --statistics -D kitops -i $< -o $@

## catalogs: compile the translations
catalogs: $(MO_FILES)

## messages: extract the strings from the code into the template and update the German
## catalog with them (then translate what is new and `make catalogs`; de_AT holds only where
## Austrian usage differs, and falls back to de)
messages: $(VENV)/.installed-run
	$(BIN)/python -m babel.messages.frontend extract -F babel.cfg --no-location --sort-output \
		--omit-header -k N_ -o kitops/locale/kitops.pot kitops tui
	$(BIN)/python -m babel.messages.frontend update --no-fuzzy-matching --ignore-obsolete \
		--ignore-pot-creation-date -D kitops -l de -i kitops/locale/kitops.pot -d kitops/locale

## run: install, migrate the database, load the demo data when it is empty, start the terminal UI
run: $(VENV)/.installed-run catalogs
	$(BIN)/kitops db upgrade
	$(BIN)/kitops demo --if-empty
	$(BIN)/kitops tui

## serve: install, migrate the database, load the demo data when it is empty, serve the web pages
serve: $(VENV)/.installed-run catalogs
	$(BIN)/kitops db upgrade
	$(BIN)/kitops demo --if-empty
	$(BIN)/kitops serve

## test: lint, type-check and run the whole suite (PostgreSQL too when one answers locally)
test: $(VENV)/.installed-test lint typecheck pytest

check: test

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

pytest: $(VENV)/.installed-test catalogs
	@if [ -n "$$KITOPS_TEST_PG_URL" ] || [ -n "$$KITOPS_TEST_PG" ]; then :; \
	elif ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null; then \
		echo "PostgreSQL is installed: the PostgreSQL tests run on a throwaway cluster of it (tests/pg_private.py)"; \
		export KITOPS_TEST_PG=private; \
	elif $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_PROBE_URL)', connect_timeout=2).close()" 2>/dev/null; then \
		echo "PostgreSQL answers on 127.0.0.1:5432: running the PostgreSQL tests too"; \
		export KITOPS_TEST_PG_URL='$(PG_PROBE_URL)'; \
	fi; \
	$(BIN)/python -m compileall -q kitops tui; \
	$(PYTEST_ENV) $(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal --durations=20 $(PYTEST_ARGS)

## test-fast: the unit tests and the integration tests on SQLite (a minute or so)
test-fast: $(VENV)/.installed-test catalogs
	$(BIN)/python -m compileall -q kitops tui
	$(PYTEST_ENV) $(BIN)/pytest -n $(PYTEST_WORKERS) -m "not postgresql" tests/unit tests/integration $(PYTEST_ARGS)

## test-dates: the unit, integration and CLI tests on SQLite with the clock pinned to each of TEST_DATES
test-dates: $(VENV)/.installed-test catalogs
	@$(BIN)/python -m compileall -q kitops tui
	@set -e; for when in $(TEST_DATES); do \
		if [ "$$when" = today ]; then pin=""; else pin="--today=$$when"; fi; \
		echo "== clock: $$when"; \
		KITOPS_TEST_REQUIRE_PG=0 $(PYTEST_ENV) $(BIN)/pytest -q -n $(PYTEST_WORKERS) -m "not postgresql" $$pin $(DATED_TESTS) $(PYTEST_ARGS); \
	done

## pictures: the README's kit label and purchase order pictures (docs/), from the demo data
pictures: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	$(BIN)/python docs/make_pictures.py
	$(BIN)/python docs/digest_picture.py

# every benchmark at the sizes the README quotes, on SQLite, then those that take PostgreSQL
# on BENCH_PG (`make bench BENCH_PG=` skips them); each prints its figures beside
# hand-written SQL and never asserts a target (tests/test_benchmarks_tiny.py runs each in
# miniature, so none can break unnoticed). About an hour on a 2-core machine.
BENCH_PG ?= $(PG_PROBE_URL)
BENCH_SQLITE := cli_startup.py tui_startup.py scan.py ledger_scale.py reports_scale.py \
	reorder_scale.py assignment.py web.py
BENCH_ON_PG := scan.py ledger_scale.py reports_scale.py assignment.py fulfil_throughput.py

bench: $(VENV)/.installed-test catalogs
	cd benchmarks && for script in $(BENCH_SQLITE); do \
		echo "== $$script"; ../$(BIN)/python $$script || exit 1; done
	if [ -n "$(BENCH_PG)" ]; then cd benchmarks && for script in $(BENCH_ON_PG); do \
		echo "== $$script (PostgreSQL)"; \
		../$(BIN)/python $$script --pg-admin-url "$(BENCH_PG)" || exit 1; done; fi

# The 50-clinic, 10,000,000-move PostgreSQL chain (benchmarks/chain_scale.py): half an
# hour or more on a 2-core machine, so not part of `bench`.
bench-chain: $(VENV)/.installed-test catalogs
	cd benchmarks && ../$(BIN)/python chain_scale.py --pg-admin-url "$(BENCH_PG)" --explain

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
