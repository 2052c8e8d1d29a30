#!/usr/bin/env bash
# Run the whole suite on SQLite and on a throwaway PostgreSQL cluster (started here, always stopped).
set -euo pipefail
cd "$(dirname "$0")/.."
PGDIR=$(mktemp -d /tmp/repigment-pg.XXXXXX)
cleanup() { bash scripts/pg-cluster.sh stop "$PGDIR" || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
REPIGMENT_TEST_POSTGRES_URL=$(PG_FSYNC=off bash scripts/pg-cluster.sh start "$PGDIR")
export REPIGMENT_TEST_POSTGRES_URL REPIGMENT_TEST_REQUIRE_POSTGRES=1
echo "PostgreSQL test cluster: ${REPIGMENT_TEST_POSTGRES_URL}"
.venv/bin/python -m pytest "$@"
