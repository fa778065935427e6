#!/usr/bin/env bash
# validate_all.sh
# Compatibility wrapper (MIGRATION.md): schema-checks every coordination file; exit 3 when
# any is invalid.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/compat.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/compat.sh"

usage="validate_all.sh"
compat_deprecated "coord validate"
(($# == 0)) || compat_usage "takes no argument" "$usage"
compat_coord validate
