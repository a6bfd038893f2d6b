#!/usr/bin/env bash
# Debian packages the orchestrator needs on its hosts, installed with apt-get when missing and this
# runs as root; otherwise it says what to install.
#   always:        bubblewrap (bwrap) for the agent sandbox. Agents never run unsandboxed by
#                  accident: without bwrap an agent step blocks its item.
#   --production:  postgresql (initdb, pg_ctl, postgres), for the private PostgreSQL that
#                  scripts/production-temporal.sh starts under the production Temporal server;
#                  chromium, for `npm run test:production`'s check of the Web UI (headless).
set -euo pipefail
log() { printf '[system] %s\n' "$*"; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
if [ "${1:-}" = "--production" ] && ! bash "$root/scripts/postgres-bin.sh" initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
if [ "${1:-}" = "--production" ] && ! command -v chromium >/dev/null 2>&1; then missing+=(chromium); fi

if [ "${#missing[@]}" -eq 0 ]; then
  log "bubblewrap $(bwrap --version | awk '{print $2}') found"
  [ "${1:-}" = "--production" ] && log "PostgreSQL $("$(bash "$root/scripts/postgres-bin.sh" postgres)" --version | awk '{print $3}') and $(chromium --version 2>/dev/null | head -n1) found"
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/orch-apt.log 2>&1; then
    apt-get update >>/tmp/orch-apt.log 2>&1
    apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/orch-apt.log 2>&1 || { tail -n 20 /tmp/orch-apt.log >&2; exit 1; }
  fi
  log "installed ${missing[*]}"
else
  log "WARNING: ${missing[*]} is not installed and cannot be installed from here (needs root and apt-get)."
  log "Install it (Debian/Ubuntu: sudo apt-get install ${missing[*]})."
  for p in "${missing[@]}"; do
    case "$p" in
      bubblewrap) log "Until bubblewrap is installed every agent step blocks its item." ;;
      postgresql) log "Until PostgreSQL is installed the production server cannot start."; exit 1 ;;
      chromium) log "Until Chromium is installed the Web UI check of npm run test:production cannot run."; exit 1 ;;
    esac
  done
fi
