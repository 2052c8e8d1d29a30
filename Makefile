# repigment — the two set-up commands are `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench lint install system-test-deps clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/repigment demo

# System packages the suite needs (R as the statistics oracle, chromium for browser tests,
# PostgreSQL server binaries for the throwaway cluster); installed from Debian only when missing.
system-test-deps:
	bash scripts/ensure-test-deps.sh

test: $(STAMP) system-test-deps
	bash scripts/run-tests.sh

bench: $(STAMP)
	$(PY) -m benchmarks

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
