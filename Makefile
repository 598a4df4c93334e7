# make demo: set up .venv if needed, then run every lesson in order (offline without a key).
# make test: set up .venv with the dev tools if needed, lint, then run the tests in parallel.
# make bench: the benchmark of what a reader waits for, with its budgets.
# make screenshots: rewrite docs/web_streaming.png, lesson 12's page in a real browser, and
#   docs/phoenix_trace.png, the OpenTelemetry lesson's trace in Phoenix (installs Phoenix).
# make lock: compile requirements.in into the complete lock, requirements.txt.
# make phoenix: install Arize Phoenix into its own venv, .phoenix/, and serve it on
#   http://127.0.0.1:6006 (data in a fresh temp dir; Ctrl-C stops it).
# make lock-phoenix: compile requirements-phoenix.in into Phoenix's lock, requirements-phoenix.txt.
# make latest: the tests against the newest langchain and openai releases (not in CI).
# make docker-check: hadolint, then a real docker build and run of the image (CI runs it).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint expected screenshots bench docker-check lock latest clean \
	phoenix lock-phoenix

demo: $(STAMP)
	@PYTHONUNBUFFERED=1 $(BIN)/python -m tutorial_env tour

# Pytest keeps each test module, once its asserts are rewritten, as bytecode in __pycache__;
# where the environment sets PYTHONDONTWRITEBYTECODE, every worker would redo all of them.
test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest

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

# Rewrite docs/web_streaming.png: lesson 12's page mid-answer, in headless Chromium; and
# docs/phoenix_trace.png: the OpenTelemetry lesson's trace in Phoenix's UI, taken by the
# Phoenix check once Phoenix has given back the same tree.
screenshots: $(DEV_STAMP)
	mkdir -p docs
	SCREENSHOTS=docs TUTORIAL_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -n 0 -q -p no:cacheprovider \
		tests/test_web_browser.py -k screenshot
	VENV_BIN=$(CURDIR)/$(BIN) .ci/phoenix-check --screenshot docs/phoenix_trace.png

# Setup installs uv (pinned in requirements-setup.txt) into .venv, then uv makes .venv hold
# exactly the lock, requirements.txt, and nothing else: several times faster than pip from
# nothing (BENCHMARKS.md). The result is a plain venv.
UV_FLAGS := --quiet --compile-bytecode --system-certs --python $(BIN)/python
UV := $(BIN)/uv pip install $(UV_FLAGS)

$(STAMP): requirements.txt requirements-setup.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-r requirements-setup.txt
	$(BIN)/uv pip sync $(UV_FLAGS) requirements.txt requirements-setup.txt
	touch $@

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(UV) -r requirements-dev.txt
	touch $@

# Compile requirements.in into the complete lock, requirements.txt, for Python 3.11 and up.
# It keeps the pins it can; `make lock UPGRADE=1` moves everything to the newest releases.
# Its first line records requirements.in's hash, so a test sees an edit that was not locked.
lock: $(STAMP)
	$(BIN)/uv pip compile --quiet --system-certs --universal --python-version 3.11 \
		$(if $(UPGRADE),--upgrade) \
		--custom-compile-command "make lock" requirements.in -o requirements.txt
	sed -i "1i # requirements.in sha256: $$(sha256sum requirements.in | cut -d' ' -f1)" \
		requirements.txt

# Arize Phoenix, the trace viewer, in its own venv from its own lock, so that it stays out of
# the lessons' lock. Its UI and OTLP/HTTP listen on 127.0.0.1 only; its OTLP/gRPC receiver,
# port 4317, listens on every interface (Phoenix 20.26.1 hardcodes that). It keeps its data
# in PHOENIX_WORKING_DIR (a fresh temp dir unless set), and sends no telemetry. With PIDFILE=path, its PID goes there
# (.ci/phoenix-check stops Phoenix by it).
PHOENIX := .phoenix
PHOENIX_STAMP := $(PHOENIX)/.installed
PHOENIX_PORT ?= 6006

phoenix: $(PHOENIX_STAMP)
	@dir=$${PHOENIX_WORKING_DIR:-$$(mktemp -d /tmp/phoenix.XXXXXX)}; \
	echo "Phoenix: http://127.0.0.1:$(PHOENIX_PORT), data in $$dir; Ctrl-C stops it."; \
	$(if $(PIDFILE),echo $$$$ > $(PIDFILE);) \
	exec env PHOENIX_WORKING_DIR=$$dir PHOENIX_HOST=127.0.0.1 PHOENIX_PORT=$(PHOENIX_PORT) \
		PHOENIX_TELEMETRY_ENABLED=false PHOENIX_ALLOW_EXTERNAL_RESOURCES=false \
		$(PHOENIX)/bin/phoenix serve

$(PHOENIX_STAMP): requirements-phoenix.txt | $(STAMP)
	test -x $(PHOENIX)/bin/python || $(PYTHON) -m venv --without-pip $(PHOENIX)
	$(BIN)/uv pip sync --quiet --compile-bytecode --system-certs --python $(PHOENIX)/bin/python \
		requirements-phoenix.txt
	touch $@

# Compile requirements-phoenix.in into Phoenix's lock the way `make lock` does. Phoenix needs
# only .venv's uv, so neither target brings .venv up to date with a changed requirements.txt.
lock-phoenix: | $(STAMP)
	$(BIN)/uv pip compile --quiet --system-certs --universal --python-version 3.11 \
		$(if $(UPGRADE),--upgrade) \
		--custom-compile-command "make lock-phoenix" requirements-phoenix.in \
		-o requirements-phoenix.txt
	sed -i "1i # requirements-phoenix.in sha256: $$(sha256sum requirements-phoenix.in | cut -d' ' -f1)" \
		requirements-phoenix.txt

# The tests against the newest releases of the packages this tutorial teaches, in a scratch
# venv. Not in CI: the answer depends on the day. Record it in BENCHMARKS.md.
latest: $(STAMP)
	UV=$(CURDIR)/$(BIN)/uv .ci/latest

clean:
	rm -rf $(VENV) $(PHOENIX) .pytest_cache .ruff_cache logs
