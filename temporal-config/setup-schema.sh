#!/bin/sh
# Creates (or upgrades) the Temporal server's two PostgreSQL databases, `temporal` and
# `temporal_visibility`, with the schema tool of the pinned server version. Idempotent: a database
# that exists is kept, and a schema already at the newest version is left as it is; a schema of
# an older server version is upgraded (run it before starting a newer server).
# Run by scripts/production-temporal.sh (tests, a person trying production) and by compose's
# temporal-schema job (admin-tools image).
# Environment (the schema tool's own variables): SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD;
# TEMPORAL_SQL_TOOL names the tool (default: temporal-sql-tool on PATH).
set -eu
tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
: "${SQL_HOST:?SQL_HOST: the PostgreSQL host}" "${SQL_PORT:=5432}" "${SQL_USER:?SQL_USER}" "${SQL_PASSWORD:?SQL_PASSWORD}"
export SQL_HOST SQL_PORT SQL_USER SQL_PASSWORD SQL_PLUGIN=postgres12

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) schema=postgresql/v12/temporal ;;
    *) schema=postgresql/v12/visibility ;;
  esac
  echo "[schema] $db: create the database if missing"
  "$tool" --quiet --db "$db" create-database
  echo "[schema] $db: version tables"
  "$tool" --quiet --db "$db" setup-schema -v 0.0
  echo "[schema] $db: update to the newest version of $schema"
  "$tool" --quiet --db "$db" update-schema --schema-name "$schema"
done
echo "[schema] done"
