# Quick start: `make demo` and `make test` on a machine with only Python >= 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint test-sqlite test-postgres messages bench-ingest clean

$(BIN)/veilleur: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(BIN)/veilleur
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/veilleur
	$(BIN)/veilleur demo

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy

test-sqlite: $(VENV)/.test-installed
	$(BIN)/pytest

# The suite again on PostgreSQL (browser tests aside: they test pages, not storage).
# Without a reachable server every test skips, saying why.
test-postgres: $(VENV)/.test-installed
	VEILLEUR_TEST_DATABASE=postgres $(BIN)/pytest -m "not browser"

test: lint test-sqlite test-postgres

# Regenerate the French catalogue after changing translatable strings.
messages: $(VENV)/.test-installed
	cd src/veilleur && ../../$(BIN)/veilleur makemessages -l fr --no-obsolete && ../../$(BIN)/veilleur compilemessages

bench-ingest: $(BIN)/veilleur
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
