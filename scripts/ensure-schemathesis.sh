#!/usr/bin/env bash
# Ensures schemathesis (PyPI, pinned 4.32.5), the API-contract fuzzer, is
# installed in its own virtual environment (its dependencies must not move
# localstripe's or achlens's). Idempotent: installs only when missing.
# Prints the path of the `st` executable on its last line.
set -euo pipefail
want="4.32.5"
venv="${INFLOW_TOOLS_DIR:-$HOME/.cache/inflow-tools}/schemathesis-${want}"
if [ ! -x "$venv/bin/st" ] || [ "$("$venv/bin/python" -m pip show schemathesis 2>/dev/null | awk '/^Version:/ {print $2}' || true)" != "$want" ]; then
  python3 -m venv "$venv" >&2 || { apt-get update -qq >&2 && apt-get install -y -qq python3-venv >&2 && python3 -m venv "$venv" >&2; }
  "$venv/bin/python" -m pip install --quiet "schemathesis==${want}" >&2
fi
echo "$venv/bin/st"
