#!/usr/bin/env bash
# Hands the orchestrator's work over from the running worker process to a new one, without
# killing a running step (the self-hosting upgrade; docs/operations/deploys.md):
#
#   1. start the new worker (its own session, so nothing that stops this script reaches it),
#   2. wait until it polls the task queue (its log says "worker polling"),
#   3. only then send SIGTERM to the previous worker: it stops polling and lets its running
#      activities finish for ORCH_WORKER_SHUTDOWN_GRACE_MS (past that they are cancelled and
#      resumed by the new worker), then exits,
#   4. record the new worker's pid.
#
# If the new worker does not come up, it is stopped and the previous one keeps running: a failed
# upgrade never leaves the task queue without a worker. This script is usually the orchestrator
# project's `commands.deployProduction`, so it runs inside the very worker it replaces: it does
# not wait for that worker to exit (the worker waits for this step to finish).
#
# With Worker Versioning (ADR-0028) the new worker gets no work until its build is made current:
# --promote runs that step between 2 and 3 (if it fails, the new worker is stopped and the old one
# keeps running), and --keep-previous leaves the old worker running (a ramp serves both builds);
# its pid is then kept in worker.pid.previous.
#
# usage: replace-worker.sh --run-dir DIR --start COMMAND [--env-file FILE] [--ready REGEX] [--timeout SECONDS]
#                          [--promote COMMAND] [--before-stop COMMAND] [--keep-previous]
#   --run-dir   where worker.pid and the workers' logs live (kept between upgrades)
#   --start     how to start the new worker, e.g. "node /srv/orchestrator/releases/abc/dist/worker/main.js"
#   --env-file  settings and secrets the new worker needs (KEY=value lines; deploy commands get a
#               scrubbed environment, so the worker's own settings come from here)
#   --ready     what the new worker's log says once it polls (default: "worker polling")
#   --timeout   how long to wait for that (default: 120)
#   --promote   run once the new worker polls, before the old one is stopped (release-worker.sh
#               makes the new build current or ramps it here)
#   --before-stop  run after --promote, before the previous worker is stopped; if it fails, the
#               previous worker keeps running (release-worker.sh waits here until nothing pinned
#               runs on the old build)
#   --keep-previous  do not stop the previous worker
# ORCH_REVISION (set by the deploy step) is passed on to the new worker and names its log.
set -euo pipefail

run_dir='' start='' env_file='' ready='worker polling' timeout=120 promote='' before_stop='' keep_previous=''
while [ $# -gt 0 ]; do
  case "$1" in
    --run-dir) run_dir="$2"; shift 2 ;;
    --start) start="$2"; shift 2 ;;
    --env-file) env_file="$2"; shift 2 ;;
    --ready) ready="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --promote) promote="$2"; shift 2 ;;
    --before-stop) before_stop="$2"; shift 2 ;;
    --keep-previous) keep_previous=1; shift ;;
    *) echo "replace-worker: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$run_dir" ] || { echo 'replace-worker: --run-dir is required' >&2; exit 2; }
[ -n "$start" ] || { echo 'replace-worker: --start is required' >&2; exit 2; }
[ -z "$env_file" ] || [ -r "$env_file" ] || { echo "replace-worker: cannot read --env-file $env_file" >&2; exit 2; }
case "$timeout" in ''|*[!0-9]*) echo 'replace-worker: --timeout must be whole seconds' >&2; exit 2 ;; esac

mkdir -p "$run_dir"
revision="${ORCH_REVISION:-unknown}"
log="$run_dir/worker-${revision:0:12}-$(date +%s).log"
new_pid_file="$run_dir/worker.pid.new"
old_pid="$(cat "$run_dir/worker.pid" 2>/dev/null || true)"
rm -f "$new_pid_file"

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# The new worker: settings from the env file, its own session, output to its log. The inner shell
# writes its pid and then execs the command, so the recorded pid is the worker itself.
(
  if [ -n "$env_file" ]; then set -a; . "$env_file"; set +a; fi
  export ORCH_REVISION="$revision"
  exec setsid sh -c "echo \$\$ > '$new_pid_file'; exec $start"
) >"$log" 2>&1 </dev/null &

deadline=$(( $(date +%s) + timeout ))
new_pid=''
while :; do
  [ -n "$new_pid" ] || new_pid="$(cat "$new_pid_file" 2>/dev/null || true)"
  if [ -n "$new_pid" ] && grep -Eq "$ready" "$log"; then break; fi
  if [ -n "$new_pid" ] && ! alive "$new_pid"; then
    echo "replace-worker: the new worker (revision $revision) exited before it polled; the previous worker keeps running. Its log ($log) ends with:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    alive "$new_pid" && kill -TERM "$new_pid"
    echo "replace-worker: the new worker (revision $revision) did not poll within ${timeout}s; stopped it, the previous worker keeps running. Its log ($log) ends with:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  sleep 0.2
done

echo "replace-worker: worker $new_pid (revision $revision) polls; log $log"
if [ -n "$promote" ] && ! (if [ -n "$env_file" ]; then set -a; . "$env_file"; set +a; fi; sh -c "$promote"); then
  kill -TERM "$new_pid" 2>/dev/null || true
  rm -f "$new_pid_file"
  echo "replace-worker: promoting the new worker failed ($promote); stopped it, the previous worker keeps running" >&2
  exit 1
fi
mv "$new_pid_file" "$run_dir/worker.pid"
if [ -z "$keep_previous" ] && [ -n "$before_stop" ] && alive "$old_pid" && [ "$old_pid" != "$new_pid" ] \
  && ! (if [ -n "$env_file" ]; then set -a; . "$env_file"; set +a; fi; sh -c "$before_stop"); then
  echo "replace-worker: $before_stop did not succeed: the previous worker keeps running; stop it with kill -TERM $old_pid once it may" >&2
  keep_previous=1
fi
if [ -n "$keep_previous" ]; then
  if alive "$old_pid" && [ "$old_pid" != "$new_pid" ]; then
    echo "$old_pid" > "$run_dir/worker.pid.previous"
    echo "replace-worker: the previous worker $old_pid keeps running (pid in worker.pid.previous)"
  fi
elif alive "$old_pid" && [ "$old_pid" != "$new_pid" ]; then
  kill -TERM "$old_pid"
  echo "replace-worker: sent SIGTERM to the previous worker $old_pid: it stops polling and drains its running activities"
else
  echo 'replace-worker: no previous worker was running'
fi
