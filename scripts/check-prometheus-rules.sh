#!/usr/bin/env bash
# Validate deploy/prometheus-rules.yml with promtool (Prometheus's own
# checker). promtool comes with the distribution's `prometheus` package,
# installed here when missing (as scripts/ensure-bank-tools.sh does for its
# tools); the package's service is not started by the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1; then
  echo "installing promtool (package prometheus)"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
promtool check rules deploy/prometheus-rules.yml
