#!/usr/bin/env bash
# Tools the bank-connectivity tests (crates/bank) run for real: an OpenSSH
# server (sshd, ssh-keygen) and GnuPG. Installed from the distribution's
# packages only when missing. The tests start their own throwaway sshd on
# loopback (they never touch the system's SSH service) and create the
# system user `inflow-sftp` they log in as.
set -euo pipefail

missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
command -v gpg >/dev/null 2>&1 || missing+=(gnupg)
command -v gpgconf >/dev/null 2>&1 || missing+=(gnupg)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  # The package's post-install may try to start the system service; the
  # tests do not need it, and on machines without systemd it is a no-op.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
