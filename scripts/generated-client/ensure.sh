#!/usr/bin/env bash
# Ensures openapi-python-client (PyPI, pinned) is installed in its own
# virtual environment; prints the venv's path. Installs only when missing.
set -euo pipefail
want="0.26.2"
venv="${INFLOW_TOOLS_DIR:-$HOME/.cache/inflow-tools}/openapi-python-client-${want}"
if [ ! -x "$venv/bin/openapi-python-client" ]; then
  python3 -m venv "$venv" >&2 || { apt-get update -qq >&2 && apt-get install -y -qq python3-venv >&2 && python3 -m venv "$venv" >&2; }
  "$venv/bin/python" -m pip install --quiet "openapi-python-client==${want}" >&2
fi
echo "$venv"
