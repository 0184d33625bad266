#!/usr/bin/env bash
# Ensures `localstripe` (PyPI, pinned 1.15.10: a stateful fake Stripe
# server) is installed; the Stripe connector's tests start it on a free
# loopback port. Idempotent: installs only when missing or another version.
set -euo pipefail
want="1.15.10"
have="$(python3 -m pip show localstripe 2>/dev/null | awk '/^Version:/ {print $2}' || true)"
# (pip show fails when it is not installed; with pipefail that must not end the script)
if [ "$have" != "$want" ]; then
  python3 -m pip install --quiet "localstripe==${want}"
fi
# pyenv installs need their shims refreshed before a new console script is on PATH.
if ! command -v localstripe >/dev/null 2>&1 && command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
command -v localstripe >/dev/null 2>&1 || { echo "localstripe installed but not on PATH" >&2; exit 1; }
echo "localstripe ${want} ready: $(command -v localstripe)"
