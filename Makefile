# Heimdall: the two commands that matter are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCALE ?= medium
SEED ?= 42

.PHONY: setup demo test lint build db-start db-stop bench bench-diagnosis clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/heimdall demo --scale $(SCALE) --seed $(SEED)

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt && ../$(BIN)/sqlfluff lint models

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
