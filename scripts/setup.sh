#!/usr/bin/env bash
# Everything `npm start` and `npm test` need before they run, so that those two commands are the
# only ones a user types on a fresh machine: npm dependencies (installed from the lockfile when
# missing or older than it), then the pinned external tools. `--production` (run before
# `npm run test:production`) adds PostgreSQL and the production Temporal server and schema tool.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
marker="node_modules/.package-lock.json"
if [ ! -f "$marker" ] || [ package-lock.json -nt "$marker" ]; then
  echo "[setup] installing npm dependencies from package-lock.json (npm ci)"
  npm ci --no-audit --no-fund
fi
if [ "${1:-}" = "--production" ]; then
  bash scripts/system-packages.sh --production
  bash scripts/toolchain.sh --server
else
  bash scripts/system-packages.sh
  bash scripts/toolchain.sh
fi
