#!/usr/bin/env bash
# Makes the external tools the orchestrator and its tests need available, pinned:
#   temporal (the Temporal CLI, which embeds the dev server) and gitleaks (secret scanner).
# With --server it also builds the production Temporal server and its SQL schema tool
# (temporal-server, temporal-sql-tool), which only `npm run test:production` and the native
# production scripts need: a plain `npm start` does not wait for them.
# Resolution order for each tool: a copy on PATH that is at least the pinned version,
# then a cached build outside the clone, then `go install` into that cache.
# The result is a set of symlinks in .tools/bin/ that every script and test uses.
set -euo pipefail

TEMPORAL_VERSION="1.5.1"
GITLEAKS_VERSION="8.30.1"
# Dependency auditor (reads lockfiles; works against an offline OSV database). v2.2.4 is the
# newest release that builds with Go < 1.27.
OSV_SCANNER_VERSION="2.2.4"
# The production Temporal server and its schema tool (ADR-0018); docker-compose.yml pins the same.
TEMPORAL_SERVER_VERSION="1.29.1"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${ORCH_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/temporal-orchestrator/tools}"
bin_dir="$root/.tools/bin"
mkdir -p "$bin_dir" "$cache"

log() { printf '[toolchain] %s\n' "$*"; }

# version_ge A B: true when dotted version A >= B.
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# Extracts the first x.y.z from a tool's version output.
version_of() { "$@" 2>/dev/null | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true; }

go_missing_help() {
  local tool="$1" module="$2"
  cat >&2 <<HELP
[toolchain] ERROR: '$tool' is not on PATH (or is older than pinned), not cached in
  $cache
and Go is not installed, so it cannot be built.
Fix one of:
  - install Go >= 1.23 (https://go.dev/dl/) and run 'npm run toolchain' again, or
  - install '$tool' yourself and put it on PATH (version pinned here: see scripts/toolchain.sh), or
  - build it elsewhere with: go install $module
    and copy the binary to $cache/<tool>-v<version>/$tool
HELP
  exit 1
}

# Runs `go install` with output in a log file and a progress line every 15 s:
# the Temporal CLI takes several minutes to compile on a small machine.
go_install_with_progress() {
  local name="$1" target_dir="$2"; shift 2
  local logfile="$cache/$name-build.log" started=$SECONDS
  mkdir -p "$target_dir"
  log "building $name with Go ($(go version | awk '{print $3}')); this takes a few minutes once, then it is cached in $target_dir"
  ( GOBIN="$target_dir" GOFLAGS="${GOFLAGS:-} -trimpath" go install -v "$@" ) >"$logfile" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 15
    kill -0 "$pid" 2>/dev/null || break
    log "still building $name ($((SECONDS - started)) s): $(tail -n1 "$logfile" 2>/dev/null | cut -c1-100)"
  done
  if ! wait "$pid"; then
    log "ERROR: building $name failed; last lines of $logfile:" >&2
    tail -n 20 "$logfile" >&2
    exit 1
  fi
  log "built $name in $((SECONDS - started)) s"
}

# ensure_tool NAME PINNED VERSION_CMD... ; the install command comes from install_<name>.
ensure_tool() {
  local name="$1" pinned="$2" cached_dir="$cache/$1-v$2" found=""
  local on_path; on_path="$(command -v "$name" 2>/dev/null || true)"
  if [ -n "$on_path" ] && [ "$(readlink -f "$on_path")" != "$(readlink -f "$bin_dir/$name" 2>/dev/null)" ]; then
    local v; v="$(version_of "$on_path" "${@:3}")"
    if [ -n "$v" ] && version_ge "$v" "$pinned"; then found="$on_path"; log "$name $v found on PATH ($on_path)"; fi
  fi
  if [ -z "$found" ] && [ -x "$cached_dir/$name" ]; then
    found="$cached_dir/$name"; log "$name $pinned found in cache ($found)"
  fi
  if [ -z "$found" ]; then
    "install_$name" "$cached_dir"
    found="$cached_dir/$name"
  fi
  ln -sfn "$found" "$bin_dir/$name"
}

install_temporal() {
  local module="github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_VERSION"
  command -v go >/dev/null 2>&1 || go_missing_help temporal "$module"
  # Stamp the version the CLI reports; a plain `go install` reports 0.0.0-DEV.
  go_install_with_progress temporal "$1" \
    -ldflags "-X github.com/temporalio/cli/temporalcli.Version=$TEMPORAL_VERSION" "$module"
}

install_gitleaks() {
  local module="github.com/zricethezav/gitleaks/v8@v$GITLEAKS_VERSION"
  command -v go >/dev/null 2>&1 || go_missing_help gitleaks "$module"
  # gitleaks reads its version from a linker flag; without it `gitleaks version` says nothing useful.
  go_install_with_progress gitleaks "$1" \
    -ldflags "-X github.com/zricethezav/gitleaks/v8/version.Version=v$GITLEAKS_VERSION" "$module"
}

install_osv-scanner() {
  local module="github.com/google/osv-scanner/v2/cmd/osv-scanner@v$OSV_SCANNER_VERSION"
  command -v go >/dev/null 2>&1 || go_missing_help osv-scanner "$module"
  go_install_with_progress osv-scanner "$1" "$module"
}

# go install names a binary after its package's folder (server, sql): built in a scratch folder,
# then moved into the cache under the name the scripts use.
install_server_command() {
  local name="$1" package="$2" target="$3" scratch="$cache/.build-$1"
  local module="go.temporal.io/server/$package@v$TEMPORAL_SERVER_VERSION"
  command -v go >/dev/null 2>&1 || go_missing_help "$name" "$module"
  rm -rf "$scratch"
  go_install_with_progress "$name" "$scratch" "$module"
  mkdir -p "$target"
  mv "$scratch/$(basename "$package")" "$target/$name"
  rm -rf "$scratch"
}
install_temporal-server() { install_server_command temporal-server cmd/server "$1"; }
install_temporal-sql-tool() { install_server_command temporal-sql-tool cmd/tools/sql "$1"; }

ensure_tool temporal "$TEMPORAL_VERSION" --version
ensure_tool gitleaks "$GITLEAKS_VERSION" version
ensure_tool osv-scanner "$OSV_SCANNER_VERSION" --version
if [ "${1:-}" = "--server" ]; then
  # Neither prints a version we could compare against a copy on PATH: always the cached build.
  for tool in temporal-server temporal-sql-tool; do
    dir="$cache/$tool-v$TEMPORAL_SERVER_VERSION"
    if [ -x "$dir/$tool" ]; then log "$tool $TEMPORAL_SERVER_VERSION found in cache ($dir/$tool)"; else "install_$tool" "$dir"; fi
    ln -sfn "$dir/$tool" "$bin_dir/$tool"
  done
fi
log "tools ready in $bin_dir: temporal $(version_of "$bin_dir/temporal" --version), gitleaks $(version_of "$bin_dir/gitleaks" version), osv-scanner $(version_of "$bin_dir/osv-scanner" --version)"
