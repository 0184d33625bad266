#!/usr/bin/env bash
# Ensures the independent ACH validator `achlens` (PyPI, pinned 0.1.7) is
# installed; used by the inflow-nacha writer tests. Idempotent.
set -euo pipefail
want="0.1.7"
have="$(python3 -m pip show achlens 2>/dev/null | awk '/^Version:/ {print $2}' || true)"
# (pip show fails when it is not installed; with pipefail that must not end the script)
if [ "$have" != "$want" ]; then
  python3 -m pip install --quiet "achlens==${want}"
fi
# pyenv installs need their shims refreshed before a new console script is on PATH.
if ! command -v achlens >/dev/null 2>&1 && command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
command -v achlens >/dev/null 2>&1 || { echo "achlens installed but not on PATH" >&2; exit 1; }
echo "achlens ${want} ready: $(command -v achlens)"
