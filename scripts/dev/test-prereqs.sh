#!/bin/sh
# Installs the system programs the test suite drives for real, when they are missing:
# OpenSSH server (test/ssh: sshd on 127.0.0.1), Debian's Chromium (test/dashboard: headless
# browser through playwright-core) and shellcheck (test/migration: the compat scripts).
# Run by `npm test` before anything else, and so by .ci/run. Needs root (or passwordless
# sudo) and the Debian archive only when something is missing; otherwise it only checks.
set -eu

missing=""
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || missing="$missing openssh-server"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v shellcheck >/dev/null 2>&1 || missing="$missing shellcheck"

if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then as_root=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root="sudo -n"; else as_root="none"; fi
  if [ "$as_root" = none ]; then
    echo "test-prereqs: missing:$missing — install them as root (apt-get install -y$missing); the tests that need them will fail and say so" >&2
  else
    echo "test-prereqs: installing$missing" >&2
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    # shellcheck disable=SC2086 # word splitting of the package list is wanted
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  fi
fi
# sshd refuses to start without its privilege-separation folder.
[ -d /run/sshd ] || mkdir -p /run/sshd 2>/dev/null || true
