#!/usr/bin/env bash
# Run the whole suite. Extended by the store to run it on SQLite and on a throwaway PostgreSQL cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest "$@"
