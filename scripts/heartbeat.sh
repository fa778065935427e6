#!/usr/bin/env bash
# heartbeat.sh [buildN]
# Compatibility wrapper (MIGRATION.md) for existing cron entries: one heartbeat of buildN
# (default: this builder) on refs/coord/heartbeats/buildN, and a status refresh on main
# only when something changed. Never a heartbeat branch or a commit per minute.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/compat.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/compat.sh"

usage="heartbeat.sh [buildN]"
compat_deprecated "coord heartbeat (cron: * * * * * coord heartbeat)"
(($# <= 1)) || compat_usage "expected at most 1 argument, got $#" "$usage"
if (($# == 1)); then
  compat_builder "$usage" "$1"
  compat_coord "--builder=$COMPAT_BUILDER" heartbeat
fi
compat_coord heartbeat
