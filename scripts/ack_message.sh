#!/usr/bin/env bash
# ack_message.sh MESSAGE_ID buildN
# Compatibility wrapper (MIGRATION.md): buildN acknowledges (and reads) one message.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/compat.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/compat.sh"

usage="ack_message.sh MESSAGE_ID buildN"
compat_deprecated "coord --builder buildN messages ack ID"
(($# == 2)) || compat_usage "expected 2 arguments, got $#" "$usage"
compat_require "$usage" MESSAGE_ID "$1"
compat_require "$usage" buildN "$2"
compat_coord --builder "$2" messages ack "$1"
