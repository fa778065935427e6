#!/usr/bin/env bash
# read_messages.sh [buildN]   (N alone is buildN)
# Compatibility wrapper (MIGRATION.md): the unread messages of buildN (default: this
# builder), errors first, then warnings, requests and info. Marks nothing read.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/compat.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/compat.sh"

usage="read_messages.sh [buildN]"
compat_deprecated "coord messages --to buildN --order severity --long"
(($# <= 1)) || compat_usage "expected at most 1 argument, got $#" "$usage"
if (($# == 1)); then
  compat_builder "$usage" "$1"
  compat_coord messages list "--to=$COMPAT_BUILDER" --order severity --long
fi
compat_coord messages list --order severity --long
