#!/usr/bin/env bash
# check_unread_messages.sh [buildN|all]   (N alone is buildN)
# Compatibility wrapper (MIGRATION.md). buildN: lists its unread messages and exits 1 when
# there are any (scripts use it as a boolean), 0 when none. all (the default): the fleet
# status with unread counts per builder, exit 0. Never commits anything (the upstream
# script committed coordination/unread_messages_status.json on every run).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/compat.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/compat.sh"

usage="check_unread_messages.sh [buildN|all]"
(($# <= 1)) || compat_usage "expected at most 1 argument, got $#" "$usage"
target=${1-all}
compat_require "$usage" "buildN or all" "$target"
if [[ "$target" == all ]]; then
  compat_deprecated "coord status (unread messages per builder)"
  compat_coord status
fi
compat_deprecated "coord messages --to buildN --exit-code-if-unread"
compat_builder "$usage" "$target"
compat_coord messages list "--to=$COMPAT_BUILDER" --exit-code-if-unread --order severity --long
