#!/bin/sh
# Creates the orchestrator's namespaces on a Temporal server, keeping those that exist: `default`
# (production items) and `staging` (the staging pair of docker-compose.yml's staging profile).
# The worker registers the work items' search attributes itself, in every namespace it serves.
# Run by scripts/production-temporal.sh and by compose's temporal-namespaces job (admin-tools).
# Environment: TEMPORAL_ADDRESS (host:port), and the temporal CLI's own TLS and API-key
# variables; TEMPORAL_NAMESPACES (default "default staging"); TEMPORAL_RETENTION (default 7d);
# TEMPORAL_CLI names the CLI (default: temporal on PATH).
set -eu
cli="${TEMPORAL_CLI:-temporal}"
: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS: the frontend, host:port}"
namespaces="${TEMPORAL_NAMESPACES:-default staging}"
retention="${TEMPORAL_RETENTION:-7d}"

tries=0
until "$cli" operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 90 ]; then
    echo "[namespaces] the Temporal frontend at $TEMPORAL_ADDRESS did not answer in 3 minutes" >&2
    exit 1
  fi
  sleep 2
done
for ns in $namespaces; do
  if "$cli" operator namespace describe --namespace "$ns" >/dev/null 2>&1; then
    echo "[namespaces] $ns exists"
  else
    "$cli" operator namespace create --namespace "$ns" --retention "$retention"
    echo "[namespaces] $ns created (retention $retention)"
  fi
done
# A new namespace reaches the frontend's namespace cache only at its next refresh (~10 s): until
# then a worker starting against it is told "namespace not found". Done means usable.
for ns in $namespaces; do
  tries=0
  until "$cli" operator search-attribute list --namespace "$ns" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
      echo "[namespaces] $ns was created but is not usable after 60 s" >&2
      exit 1
    fi
    sleep 1
  done
  echo "[namespaces] $ns ready"
done
