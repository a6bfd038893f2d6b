#!/usr/bin/env bash
# The orchestrator's own production deploy on a host that runs its worker as a process
# (`commands.deployProduction` of the selfHosting project; docs/operations/deploys.md).
#
# Runs in the build checkout of the merged revision (ORCH_REVISION), which the image-freshness
# gate has built (`commands.build: npm ci && npm run build`). The checkout is reused by the next
# build, so the worker must not run from it: it is copied once to <releases>/<revision>, and the
# worker is handed over to that copy with replace-worker.sh (new worker first, then SIGTERM to the
# old one, which drains its running steps).
#
# usage: release-worker.sh --releases DIR [replace-worker.sh options: --run-dir, --env-file, --ready, --timeout]
set -euo pipefail

releases=''
passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    --releases) releases="$2"; shift 2 ;;
    *) passthrough+=("$1"); shift ;;
  esac
done
[ -n "$releases" ] || { echo 'release-worker: --releases is required' >&2; exit 2; }
[ -n "${ORCH_REVISION:-}" ] || { echo 'release-worker: ORCH_REVISION is not set (the deploy step sets it)' >&2; exit 2; }
[ -f dist/worker/main.js ] || { echo "release-worker: $(pwd) has no dist/worker/main.js: build it first (commands.build: npm ci && npm run build)" >&2; exit 1; }

release="$releases/$ORCH_REVISION"
if [ ! -d "$release" ]; then
  # Copied aside and renamed: a half-copied release is never started.
  mkdir -p "$releases"
  partial="$release.partial.$$"
  cp -a . "$partial"
  rm -rf "$partial/.git"
  mv "$partial" "$release"
fi
echo "release-worker: release $ORCH_REVISION in $release"
exec bash "$(dirname "$0")/replace-worker.sh" "${passthrough[@]}" --start "node $release/dist/worker/main.js"
