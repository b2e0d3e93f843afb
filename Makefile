# The two commands of the README: `make demo` and `make test`. Each creates .venv if missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
DEMO_RESIDENTS ?= 20000
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo worker test lint test-sqlite test-postgres bench mutate clean

$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# `--serve` starts the background worker (`fangkong worker`: the clock, the slow work of pages)
# beside the web server, and stops it with the server.
demo: $(BIN)/.installed
	$(BIN)/fangkong demo --residents $(DEMO_RESIDENTS) --serve --host $(HOST) --port $(PORT)

# The worker alone (production runs it as a service of its own: README, "Running in production").
worker: $(BIN)/.installed
	$(BIN)/fangkong worker

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test-sqlite: $(BIN)/.installed
	$(BIN)/pytest -q -p no:cacheprovider

# With CI=true a missing PostgreSQL fails the run; on a laptop without one it is skipped loudly.
test-postgres: $(BIN)/.installed
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		FANGKONG_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -p no:cacheprovider; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL at $(PG_URL) is not reachable, and CI=true requires it." >&2; exit 1; \
	else \
		echo "WARNING: PostgreSQL at $(PG_URL) is not reachable: PostgreSQL tests NOT run." >&2; \
	fi

test: lint test-sqlite test-postgres

bench: $(BIN)/.installed
	$(BIN)/python bench/ingest.py

# Mutation testing of the engine (not part of `make test`: about an hour on two cores).
mutate: $(BIN)/.installed
	rm -rf mutants
	HYPOTHESIS_PROFILE=mutation $(BIN)/mutmut run --max-children $(or $(JOBS),2)
	$(BIN)/mutmut export-cicd-stats
	$(BIN)/python bench/mutation_score.py

clean:
	rm -rf $(VENV) var mutants .pytest_cache .ruff_cache
