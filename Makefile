# One entry point for everything. Each target sets up what it needs itself,
# so on a fresh clone `make demo` and `make test` are all there is to it.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-quick docs lint typecheck check protos bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Runtime only: what the demo needs.
$(VENV)/.runtime: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# Runtime + test + dev tools (pytest, trio, hypothesis, futu-api, mypy, ruff, protoc, nox).
$(VENV)/.dev: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev,pandas]"
	touch $@ $(VENV)/.runtime

# The documentation tools (mkdocs, Material, mkdocstrings) and the runtime.
$(VENV)/.docs: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $@

## demo: start the bundled simulator, fetch watchlists from it, print them
demo: $(VENV)/.runtime
	$(BIN)/python -m asyncquote demo

## test: lint, type-check, check generated code, run the whole test suite (every
## runner, the interop tests) on this Python, build the docs; then (nox) build and
## check the sdist and wheel, run the demo from the wheel, run a representative part
## of the sdist's tests on every installed Python 3.10-3.13 (a missing one is skipped,
## saying so) and a part without sniffio. What runs where: docs/development.md.
# docs first: it installs the docs extra, which the test of docs/rst_roles.py needs.
test: docs test-quick
	$(BIN)/nox

# Test processes (pytest-xdist); PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 2

## test-quick: the checks and the whole test suite on this Python only (no packaging, no nox)
test-quick: $(VENV)/.dev lint typecheck
	$(BIN)/python protos/generate.py --check
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

## docs: build the documentation site (mkdocs.yml, docs/) into site/; any warning fails
## (the docs' Python blocks are run by the test suite: tests/repo/test_docs.py)
docs: $(VENV)/.docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.dev
	$(BIN)/mypy

## bench: throughput, decoding and memory against a floor client and the official SDK (~1 min)
bench: $(VENV)/.dev
	$(BIN)/python -m benchmarks

## protos: regenerate asyncquote/_pb from protos/*.proto
protos: $(VENV)/.dev
	$(BIN)/python protos/generate.py

clean:
	rm -rf $(VENV) site .nox .pytest_cache .mypy_cache .ruff_cache .hypothesis
