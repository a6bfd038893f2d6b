#!/usr/bin/env bash
# The orchestrator's own production release on a host that runs its worker as a process
# (`commands.deployProduction` of the selfHosting project; docs/operations/deploys.md), with
# Worker Versioning (ADR-0028):
#
#   1. copy the built checkout aside to <releases>/<revision> (the checkout is reused by the next
#      build, so the worker must not run from it);
#   2. the replay gate: the open work items' histories are replayed against the release's workflow
#      bundle (`orch versions check-replay`); a change that is not behind patched() stops here;
#   3. start the release's worker (its build ID: the revision and the bundle's hash), wait until it
#      polls, then make its build current (`orch versions set-current`) or, with --ramp, send it
#      that percentage of the work (`orch versions ramp`);
#   4. wait until nothing pinned (the catch-up job's runs) runs on the previous build
#      (`orch versions drain`), then SIGTERM the previous worker: it gets no new work and drains
#      its running activities. With
#      --ramp it keeps running (both builds serve); finish with `orch versions set-current BUILD`
#      and `kill -TERM $(cat <run-dir>/worker.pid.previous)`, or roll back with
#      `orch versions ramp off` and stopping the new worker.
#
# Rolling back after a full release is releasing the previous revision again: its copy is still in
# <releases>, so `ORCH_REVISION=<previous> release-worker.sh ...` starts its worker and makes its
# build current.
#
# usage: release-worker.sh --releases DIR [--ramp PERCENT] [replace-worker.sh options: --run-dir, --env-file, --ready, --timeout]
set -euo pipefail

releases='' ramp='' env_file=''
passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    --releases) releases="$2"; shift 2 ;;
    --ramp) ramp="$2"; shift 2 ;;
    --env-file) env_file="$2"; passthrough+=("$1" "$2"); shift 2 ;;
    *) passthrough+=("$1"); shift ;;
  esac
done
[ -n "$releases" ] || { echo 'release-worker: --releases is required' >&2; exit 2; }
[ -n "${ORCH_REVISION:-}" ] || { echo 'release-worker: ORCH_REVISION is not set (the deploy step sets it)' >&2; exit 2; }
case "$ramp" in ''|[1-9]|[1-9][0-9]) ;; *) echo 'release-worker: --ramp takes a whole percentage from 1 to 99' >&2; exit 2 ;; esac

release="$releases/$ORCH_REVISION"
if [ ! -d "$release" ]; then
  [ -f dist/worker/main.js ] || { echo "release-worker: $(pwd) has no dist/worker/main.js: build it first (commands.build: npm ci && npm run build)" >&2; exit 1; }
  # Copied aside and renamed: a half-copied release is never started.
  mkdir -p "$releases"
  partial="$release.partial.$$"
  cp -a . "$partial"
  rm -rf "$partial/.git"
  mv "$partial" "$release"
fi
echo "release-worker: release $ORCH_REVISION in $release"

# The release's own orch, with the worker's settings (where Temporal is, the task queue).
orch() (
  if [ -n "$env_file" ]; then set -a; . "$env_file"; set +a; fi
  node "$release/dist/cli/orch.js" "$@"
)
build="$(orch versions build-id)"
echo "release-worker: build $build"
if ! orch versions check-replay; then
  echo "release-worker: the replay gate refused build $build: an open workflow would fail on it (put the change behind patched()); nothing was started" >&2
  exit 1
fi

previous="$(orch versions current)"
release_orch="node '$release/dist/cli/orch.js' versions"
if [ -n "$ramp" ]; then
  promote="$release_orch ramp '$build' $ramp"
  after=(--keep-previous)
else
  promote="$release_orch set-current '$build'"
  after=()
  # The old build's pinned runs (the catch-up job's) end on its workers before they stop.
  if [ -n "$previous" ] && [ "$previous" != "$build" ]; then
    after=(--before-stop "$release_orch drain '$previous' 600")
  fi
fi
exec bash "$(dirname "$0")/replace-worker.sh" "${passthrough[@]}" "${after[@]}" \
  --promote "$promote" \
  --start "env ORCH_WORKER_PROMOTE=never ORCH_WORKER_BUILD_ID=$build node $release/dist/worker/main.js"
