#!/usr/bin/env bash
# PostgreSQL's client programs pg_dump and pg_restore, which `inflow backup`
# and `inflow restore` run on PostgreSQL and crates/server/tests/api/backup_restore.rs
# exercises (the test fails without them rather than skip). Installed from
# the distribution's packages only when missing; their major version must be
# at least the test server's (Debian 12's postgresql-client is 15).
set -euo pipefail

if ! command -v pg_dump >/dev/null 2>&1 || ! command -v pg_restore >/dev/null 2>&1; then
  echo "installing postgresql-client"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql-client >/dev/null
fi
