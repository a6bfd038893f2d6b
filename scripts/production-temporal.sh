#!/usr/bin/env bash
# The production Temporal server on this machine, natively: a private PostgreSQL, the schema,
# the real server (go.temporal.io/server, pinned in scripts/toolchain.sh) with the project's
# production config, and the namespaces. The same config files and scripts as compose's jobs
# (temporal-config/), so only the container engine differs. `npm run test:production` drives the
# steps one by one; a person trying production locally runs `up` and `down`.
#
# Usage: scripts/production-temporal.sh <command> [state-dir]
#   up          init, postgres, schema, server (in the background) and namespaces; prints the address
#   down        stops the server and PostgreSQL (their data stays in the state directory)
#   init        picks free loopback ports and a database password into <state-dir>/env (once)
#   postgres    creates (initdb, as the postgres user when run as root) and starts PostgreSQL
#   schema      temporal-config/setup-schema.sh against it
#   server      runs the Temporal server in the foreground (exec: its pid is this process's)
#   namespaces  temporal-config/create-namespaces.sh against it
#   env         prints the variables the orchestrator needs (TEMPORAL_ADDRESS)
# The state directory defaults to $ORCH_PRODUCTION_DIR, else
# ${XDG_DATA_HOME:-~/.local/share}/temporal-orchestrator/production. Ports can be set in the
# environment of `init` (TEMPORAL_FRONTEND_PORT=7233, SQL_PORT=5432, ...); unset ones are free ports.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command="${1:-}"
state="${2:-${ORCH_PRODUCTION_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/temporal-orchestrator/production}}"
envfile="$state/env"
log() { printf '[production] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pg() { bash "$root/scripts/postgres-bin.sh" "$1" || die "PostgreSQL's $1 is not installed: run 'bash scripts/system-packages.sh --production'"; }

# Runs a PostgreSQL program as the postgres user when this is root (initdb refuses root).
as_pg_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

tool() {
  local t="$root/.tools/bin/$1"
  [ -x "$t" ] || die "$1 is not built: run 'bash scripts/toolchain.sh --server'"
  echo "$t"
}

load_env() {
  [ -f "$envfile" ] || die "$envfile is missing: run '$0 init $state' first"
  set -a
  # shellcheck disable=SC1090
  . "$envfile"
  set +a
}

cmd_init() {
  mkdir -p "$state"
  chmod 700 "$state"
  if [ -f "$envfile" ]; then log "state in $state (kept)"; return; fi
  local names=(SQL_PORT TEMPORAL_FRONTEND_PORT TEMPORAL_FRONTEND_HTTP_PORT TEMPORAL_FRONTEND_MEMBERSHIP_PORT
    TEMPORAL_HISTORY_PORT TEMPORAL_HISTORY_MEMBERSHIP_PORT TEMPORAL_MATCHING_PORT TEMPORAL_MATCHING_MEMBERSHIP_PORT
    TEMPORAL_WORKER_PORT TEMPORAL_WORKER_MEMBERSHIP_PORT TEMPORAL_METRICS_PORT)
  # Free loopback ports, all held open at once so none is handed out twice. Membership ports go
  # into a smallint column of the server's database: those come from 20000-32767.
  local ports
  read -r -a ports <<<"$(node -e '
    const net = require("net");
    const listen = (port) => new Promise((ok) => { const s = net.createServer(); s.once("error", () => ok(undefined)); s.listen(port, "127.0.0.1", () => ok(s)); });
    (async () => { const servers = [];
      for (const name of process.argv.slice(1)) {
        let s;
        if (name.endsWith("MEMBERSHIP_PORT")) { for (let i = 0; i < 200 && !s; i++) s = await listen(20000 + Math.floor(Math.random() * 12767)); }
        else s = await listen(0);
        if (!s) throw new Error("no free port for " + name);
        servers.push(s);
      }
      console.log(servers.map((s) => s.address().port).join(" ")); servers.forEach((s) => s.close()); })();' "${names[@]}")"
  # PostgreSQL's data lives in a directory of its own that the postgres user can reach (the state
  # directory may sit under a home it cannot enter).
  local pgdir
  pgdir="$(mktemp -d "${TMPDIR:-/tmp}/orch-postgres.XXXXXX")"
  local password
  password="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
  {
    echo "# Written by scripts/production-temporal.sh init; secrets: keep this file private."
    local i=0
    for name in "${names[@]}"; do
      echo "$name=${!name:-${ports[$i]}}"
      i=$((i + 1))
    done
    echo "SQL_HOST=127.0.0.1"
    echo "SQL_USER=temporal"
    echo "SQL_PASSWORD=$password"
    echo "PGDATA_DIR=$pgdir/data"
    echo "PG_SOCKET_DIR=$pgdir"
  } >"$envfile"
  chmod 600 "$envfile"
  log "state in $state; PostgreSQL data in $pgdir/data"
}

cmd_postgres() {
  load_env
  local initdb pg_ctl
  initdb="$(pg initdb)"
  pg_ctl="$(pg pg_ctl)"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$PG_SOCKET_DIR"; fi
  chmod 700 "$PG_SOCKET_DIR"
  if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
    local pwfile="$PG_SOCKET_DIR/pwfile"
    printf '%s\n' "$SQL_PASSWORD" >"$pwfile"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$pwfile"; fi
    log "initdb in $PGDATA_DIR"
    as_pg_owner "$initdb" --pgdata="$PGDATA_DIR" --username="$SQL_USER" --pwfile="$pwfile" \
      --auth-host=scram-sha-256 --auth-local=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$PG_SOCKET_DIR/initdb.log" 2>&1 ||
      { tail -n 20 "$PG_SOCKET_DIR/initdb.log" >&2; die "initdb failed"; }
    rm -f "$pwfile"
  fi
  if as_pg_owner "$pg_ctl" status -D "$PGDATA_DIR" >/dev/null 2>&1; then
    log "PostgreSQL already runs on 127.0.0.1:$SQL_PORT"
    return
  fi
  as_pg_owner "$pg_ctl" start -D "$PGDATA_DIR" -w -t 60 -l "$PG_SOCKET_DIR/postgres.log" \
    -o "-h 127.0.0.1 -p $SQL_PORT -k $PG_SOCKET_DIR" >/dev/null ||
    { tail -n 20 "$PG_SOCKET_DIR/postgres.log" >&2; die "PostgreSQL did not start"; }
  log "PostgreSQL runs on 127.0.0.1:$SQL_PORT"
}

cmd_schema() {
  load_env
  # The schema tool logs every statement: kept in a file, shown when it fails.
  TEMPORAL_SQL_TOOL="$(tool temporal-sql-tool)" sh "$root/temporal-config/setup-schema.sh" >"$state/schema.log" 2>&1 ||
    { tail -n 20 "$state/schema.log" >&2; die "the schema setup failed (log: $state/schema.log)"; }
  grep '^\[schema\]' "$state/schema.log" | tail -n 1 >&2
}

server_env() {
  export TEMPORAL_BIND_IP=127.0.0.1
  export TEMPORAL_METRICS_ADDRESS="127.0.0.1:$TEMPORAL_METRICS_PORT"
  export TEMPORAL_DYNAMIC_CONFIG="$root/temporal-config/dynamicconfig/production.yaml"
}

cmd_server() {
  load_env
  server_env
  exec "$(tool temporal-server)" --root "$root" --config temporal-config/server --env production start
}

cmd_namespaces() {
  load_env
  TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_FRONTEND_PORT" TEMPORAL_CLI="$(tool temporal)" \
    sh "$root/temporal-config/create-namespaces.sh" >&2
}

cmd_env() {
  load_env
  echo "TEMPORAL_ADDRESS=127.0.0.1:$TEMPORAL_FRONTEND_PORT"
}

cmd_up() {
  cmd_init
  cmd_postgres
  cmd_schema
  load_env
  if [ -f "$state/server.pid" ] && kill -0 "$(cat "$state/server.pid")" 2>/dev/null; then
    log "the Temporal server already runs (pid $(cat "$state/server.pid"))"
  else
    nohup "$0" server "$state" >"$state/server.log" 2>&1 &
    echo $! >"$state/server.pid"
    log "Temporal server started (pid $!, log $state/server.log)"
  fi
  local pid
  pid="$(cat "$state/server.pid")"
  until "$(tool temporal)" operator cluster health --address "127.0.0.1:$TEMPORAL_FRONTEND_PORT" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { tail -c 2000 "$state/server.log" >&2; die "the Temporal server stopped (log: $state/server.log)"; }
    sleep 1
  done
  cmd_namespaces
  log "ready: TEMPORAL_ADDRESS=127.0.0.1:$TEMPORAL_FRONTEND_PORT; server metrics on 127.0.0.1:$TEMPORAL_METRICS_PORT"
  cmd_env
}

cmd_down() {
  load_env
  if [ -f "$state/server.pid" ]; then
    local pid
    pid="$(cat "$state/server.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$state/server.pid"
    log "Temporal server stopped"
  fi
  as_pg_owner "$(pg pg_ctl)" stop -D "$PGDATA_DIR" -m fast >/dev/null 2>&1 && log "PostgreSQL stopped" || true
}

case "$command" in
  up | down | init | postgres | schema | server | namespaces | env) "cmd_$command" ;;
  *) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
