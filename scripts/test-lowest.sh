#!/usr/bin/env bash
# Prove pyproject.toml's lower bounds: install the lowest version every direct dependency allows into
# .venv-lowest (uv's lowest-direct resolution; indirect dependencies resolve as usual) and run the core
# and API tests there, on SQLite and on a throwaway PostgreSQL cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=.tools/bin/uv
export UV_PYTHON=python3 UV_PYTHON_DOWNLOADS=never
rm -rf .venv-lowest
$UV venv --quiet .venv-lowest
$UV pip install --quiet --python .venv-lowest/bin/python --resolution lowest-direct -e . --group test
echo "lowest direct versions:"
$UV pip list --python .venv-lowest/bin/python 2>/dev/null | grep -iE "^(typer|pydantic|numpy|scipy|pandas|pyarrow|duckdb|statsmodels|fastapi|starlette|uvicorn|sqlalchemy|alembic|psycopg|jinja2|python-multipart|argon2-cffi|lxml|matplotlib|babel|fhir.resources|pillow|tzdata|pytest|hypothesis|httpx) "
PGDIR=$(mktemp -d /tmp/repigment-pg.XXXXXX)
cleanup() { bash scripts/pg-cluster.sh stop "$PGDIR" || true; }
trap cleanup EXIT
REPIGMENT_TEST_POSTGRES_URL=$(PG_FSYNC=off bash scripts/pg-cluster.sh start "$PGDIR")
export REPIGMENT_TEST_POSTGRES_URL REPIGMENT_TEST_REQUIRE_POSTGRES=1
.venv-lowest/bin/python -m pytest -q -p no:cacheprovider \
  tests/body tests/scoring tests/label tests/dosing tests/course tests/outcomes tests/signals tests/safety \
  tests/store tests/api tests/interop "$@"
