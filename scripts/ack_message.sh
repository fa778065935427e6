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
compat_not_option "$usage" MESSAGE_ID "$1"
compat_builder "$usage" "$2"
compat_coord "--builder=$COMPAT_BUILDER" messages ack "$1"
