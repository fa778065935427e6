#!/usr/bin/env bash
# mark_messages_read.sh buildN [MESSAGE_ID]
# Compatibility wrapper (MIGRATION.md): marks one message (or every unread one) read by
# buildN only — a broadcast stays unread for the other builders.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/compat.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/compat.sh"

usage="mark_messages_read.sh buildN [MESSAGE_ID]"
compat_deprecated "coord --builder buildN messages read ID (or --all-unread)"
(($# == 1 || $# == 2)) || compat_usage "expected 1 or 2 arguments, got $#" "$usage"
compat_builder "$usage" "$1"
if (($# == 2)); then
  compat_require "$usage" MESSAGE_ID "$2"
  compat_not_option "$usage" MESSAGE_ID "$2"
  compat_coord "--builder=$COMPAT_BUILDER" messages read "$2"
fi
compat_coord "--builder=$COMPAT_BUILDER" messages read --all-unread
