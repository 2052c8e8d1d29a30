# repigment — the two set-up commands are `make run` and `make test`.
# Every install is the exact set of versions in uv.lock; `make lock` refreshes it (see docs/development.md).
VENV ?= .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
# uv installs into $(VENV) with the machine's python3 and never downloads an interpreter of its own.
UV_ENV := UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON=python3 UV_PYTHON_DOWNLOADS=never
SYNC := $(UV_ENV) $(UV) sync --locked --quiet

.PHONY: run test test-lowest bench lint lock install install-test system-test-deps clean

# uv itself, pinned, in a small environment of its own (the project's .venv holds only what uv.lock says).
$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# The runtime only: what the clinic's server needs.
install: | $(UV)
	$(SYNC)

# The runtime and what the tests and lint need.
install-test: | $(UV)
	$(SYNC) --group test --group lint

run: install
	$(VENV)/bin/repigment demo

# System packages the suite needs (R as the statistics oracle, chromium for browser tests,
# PostgreSQL server binaries for the throwaway cluster); installed from Debian only when missing.
system-test-deps:
	bash scripts/ensure-test-deps.sh

test: install-test system-test-deps
	bash scripts/run-tests.sh

# The lowest versions pyproject.toml allows for the direct dependencies, in a separate environment:
# the core and API tests prove the floors are true.
test-lowest: | $(UV) system-test-deps
	bash scripts/test-lowest.sh

bench: install-test
	$(PY) -m benchmarks

lint: install-test
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

# Re-resolve every dependency to the newest versions pyproject.toml allows and rewrite uv.lock.
lock: | $(UV)
	$(UV_ENV) $(UV) lock --upgrade

clean:
	rm -rf $(VENV) $(TOOLS) .venv-lowest .pytest_cache .mypy_cache .ruff_cache
