#!/usr/bin/env bash
# Generates a Python client from a running Inflow's /openapi.json with
# openapi-python-client (pinned, in its own virtual environment) and runs
# the README walk-through's main steps through it (walkthrough.py).
#
#   scripts/generated-client/run.sh <base-url> <api-key> <signing-secret>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
base="$1"; key="$2"; secret="$3"
venv="$("$here/ensure.sh" | tail -1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
curl -fsS "$base/openapi.json" > "$work/openapi.json"
"$venv/bin/openapi-python-client" generate --path "$work/openapi.json" \
  --output-path "$work/inflow_client" --meta none > "$work/generate.log" 2>&1 \
  || { cat "$work/generate.log" >&2; exit 1; }
PYTHONPATH="$work" "$venv/bin/python" "$here/walkthrough.py" "$base" "$key" "$secret"
