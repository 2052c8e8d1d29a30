#!/usr/bin/env bash
# Install, from Debian, the system programs the test suite uses when they are missing:
# R (statistics oracle), chromium (browser tests) and the PostgreSQL server (throwaway cluster).
set -euo pipefail
need=()
command -v Rscript >/dev/null 2>&1 || need+=(r-base-core)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need+=(postgresql); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing from Debian: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
