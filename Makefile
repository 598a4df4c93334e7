# make demo: set up .venv if needed, then run every lesson in order (offline without a key).
# make test: set up .venv with the dev tools if needed, lint, then run the tests in parallel.
# make bench: the benchmark of what a reader waits for, with its budgets.
# make docker-check: hadolint, then a real docker build and run of the image (CI runs it).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint expected bench docker-check clean

demo: $(STAMP)
	@PYTHONUNBUFFERED=1 $(BIN)/python -m tutorial_env tour

test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Time what a reader waits for and check the budgets; see BENCHMARKS.md.
bench: $(DEV_STAMP)
	$(BIN)/python bench/bench.py

# Build and run the Docker image for real with a private daemon (needs root; see .ci/docker-check).
docker-check: $(DEV_STAMP)
	VENV_BIN=$(CURDIR)/$(BIN) .ci/docker-check

# Rewrite tests/expected/*.txt and the README output blocks from the offline run of
# each lesson; review the diff after.
expected: $(STAMP)
	$(BIN)/python tests/lessons.py
	$(BIN)/python tests/docs.py

# Setup installs uv (pinned in requirements-setup.txt) into .venv, then uv installs the exact
# pins: several times faster than pip from nothing (BENCHMARKS.md). The result is a plain venv.
UV := $(BIN)/uv pip install --quiet --compile-bytecode --system-certs --python $(BIN)/python

$(STAMP): requirements.txt requirements-setup.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-r requirements-setup.txt
	$(UV) -r requirements.txt
	touch $@

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(UV) -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache logs
