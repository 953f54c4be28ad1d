# Heimdall: the two commands that matter are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Superset 6.1 pins SQLAlchemy 1.4 and pandas 2.1: its own virtualenv, driven by subprocess and HTTP.
SUPERSET_VENV := .venv-superset
SUPERSET_STAMP := $(SUPERSET_VENV)/.installed
SCALE ?= medium
SEED ?= 42

.PHONY: setup superset-venv demo test check lint lint-python lint-sql build db-start db-stop bench bench-diagnosis clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

$(SUPERSET_STAMP): superset/requirements.txt
	$(PYTHON) -m venv $(SUPERSET_VENV)
	$(SUPERSET_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SUPERSET_VENV)/bin/python -m pip install --quiet -r superset/requirements.txt
	touch $(SUPERSET_STAMP)

superset-venv: $(SUPERSET_STAMP)

# Ends with the six Superset dashboards served on 127.0.0.1 (URL and login printed).
demo: setup superset-venv
	$(BIN)/heimdall demo --scale $(SCALE) --seed $(SEED) --approve-planted --dashboards --apps --report

# Every check the configuration promises, then every test.
test: setup superset-venv lint
	$(BIN)/pytest

lint: lint-python lint-sql

# ruff (lint + format), the package layers (import-linter) and the types (mypy).
lint-python: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# sqlfluff on the SQL dbt really compiles.
lint-sql: setup
	$(BIN)/python -m heimdall.lint_sql

build: setup
	$(BIN)/heimdall build

db-start: setup
	$(BIN)/heimdall db start

db-stop: setup
	$(BIN)/heimdall db stop

bench: setup
	$(BIN)/python bench/pipeline.py --scale small
	$(BIN)/python bench/pipeline.py --scale medium

bench-diagnosis: setup
	$(BIN)/python bench/diagnosis_accuracy.py --seeds 1 2 3

clean:
	-$(BIN)/heimdall superset stop
	-$(BIN)/heimdall db stop
	rm -rf .heimdall dbt/target dbt/logs
