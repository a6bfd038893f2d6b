#!/usr/bin/env bash
# Debian packages the orchestrator needs on the worker's host: bubblewrap (bwrap) for the agent
# sandbox. Installed with apt-get when missing and this runs as root; otherwise it says what to
# install. Agents never run unsandboxed by accident: without bwrap an agent step blocks its item.
set -euo pipefail
log() { printf '[system] %s\n' "$*"; }

missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)

if [ "${#missing[@]}" -eq 0 ]; then
  log "bubblewrap $(bwrap --version | awk '{print $2}') found"
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
  log "Install it (Debian/Ubuntu: sudo apt-get install bubblewrap): until then every agent step blocks its item."
fi
