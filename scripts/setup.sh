#!/usr/bin/env bash
# Everything `npm start` and `npm test` need before they run, so that those two commands are the
# only ones a user types on a fresh machine: npm dependencies (installed from the lockfile when
# missing or older than it), then the pinned external tools.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
marker="node_modules/.package-lock.json"
if [ ! -f "$marker" ] || [ package-lock.json -nt "$marker" ]; then
  echo "[setup] installing npm dependencies from package-lock.json (npm ci)"
  npm ci --no-audit --no-fund
fi
bash scripts/system-packages.sh
bash scripts/toolchain.sh
