# Everything runs in the project's own virtual environment, made on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= sqlite+aiosqlite:///data/demo.db

.PHONY: demo test lint format bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## demo: the console bot on SQLite with a demo cohort (the main job)
demo: $(STAMP)
	$(BIN)/jamaah demo --db $(DEMO_DB)

## test: the whole test suite (PostgreSQL too when JAMAAH_TEST_POSTGRES_URL is set), in
## four worker processes: much of it waits (channels' pacing, subprocesses), not computes
TEST_WORKERS ?= 4
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

## lint: ruff (check and format) and mypy
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: the benchmarks (see bench/README.md); each prints one JSON line at the end
bench: $(STAMP)
	$(BIN)/python bench/inbound.py
	$(BIN)/python bench/broadcast.py
	$(BIN)/python bench/reply_latency.py
	$(BIN)/python bench/nudge_tick.py
	$(BIN)/python bench/progress_query.py
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
