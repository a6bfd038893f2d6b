#!/usr/bin/env bash
# Prints the path of a PostgreSQL server program (initdb, pg_ctl, postgres, pg_isready): the one
# on PATH, else the newest of Debian's /usr/lib/postgresql/<version>/bin, which Debian keeps off
# PATH. Exits 1 when there is none.
set -euo pipefail
name="${1:?program name}"
if command -v "$name" >/dev/null 2>&1; then command -v "$name"; exit 0; fi
found="$(ls -d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n1 || true)"
[ -n "$found" ] || exit 1
echo "$found"
