#!/usr/bin/env bash
# Ensures the operator console's browser tests can run: the distribution's
# headless Chromium (Debian `chromium`) and Playwright for Python (PyPI,
# pinned) in its own virtual environment. Playwright drives the SYSTEM
# Chromium (`executable_path=/usr/bin/chromium`); `playwright install` is never
# run (it would download a browser build of its own). Idempotent: installs
# only what is missing. Prints the venv's python on its last line.
set -euo pipefail
want="1.65.2"
venv="${INFLOW_TOOLS_DIR:-$HOME/.cache/inflow-tools}/playwright-${want}"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v chromium >/dev/null 2>&1; then
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
fi
if [ ! -x "$venv/bin/python" ] || [ "$("$venv/bin/python" -m pip show playwright 2>/dev/null | awk '/^Version:/ {print $2}' || true)" != "$want" ]; then
  python3 -m venv "$venv" >&2 || { as_root apt-get update -qq >&2 && as_root apt-get install -y -qq python3-venv >&2 && python3 -m venv "$venv" >&2; }
  "$venv/bin/python" -m pip install --quiet "playwright==${want}" >&2
fi
echo "$venv/bin/python"
