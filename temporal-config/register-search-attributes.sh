#!/bin/sh
# Registers the work items' search attributes (temporal-config/search-attributes.json) on a
# Temporal server, skipping those that exist. Used by the production setup container; the dev
# server and the tests register the same list from src/domain/search-attributes.ts.
# Usage: register-search-attributes.sh <address> <namespace> <search-attributes.json>
set -eu
address="${1:?address}"; namespace="${2:?namespace}"; file="${3:?json file}"

until temporal operator namespace describe --address "$address" --namespace "$namespace" >/dev/null 2>&1; do
  echo "waiting for namespace $namespace at $address"
  sleep 2
done
existing="$(temporal operator search-attribute list --address "$address" --namespace "$namespace")"
# The file holds one "Name": "Type" pair per line.
grep -o '"[A-Za-z]*": *"[A-Za-z]*"' "$file" | tr -d '" ' | while IFS=: read -r name type; do
  if printf '%s\n' "$existing" | grep -qw "$name"; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create --address "$address" --namespace "$namespace" --name "$name" --type "$type" --yes
    echo "search attribute $name created ($type)"
  fi
done
