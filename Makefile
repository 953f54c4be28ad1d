# Heimdall: the two commands that matter are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCALE ?= medium
SEED ?= 42

.PHONY: setup demo test check lint lint-python lint-sql build db-start db-stop bench bench-diagnosis clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/heimdall demo --scale $(SCALE) --seed $(SEED)

# Every check the configuration promises, then every test.
test: setup lint
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
	$(BIN)/python bench/diagnosis_accuracy.py --seeds 1 2 3 4 5

clean:
	-$(BIN)/heimdall db stop
	rm -rf .heimdall dbt/target dbt/logs
