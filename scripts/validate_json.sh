#!/usr/bin/env bash
# validate_json.sh FILE...
# Compatibility wrapper (MIGRATION.md): schema-checks the given coordination files; one
# line per problem (file: /json/pointer: reason), exit 3 when any is invalid.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/compat.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/compat.sh"

usage="validate_json.sh FILE..."
compat_deprecated "coord validate FILE..."
(($# >= 1)) || compat_usage "name at least one file" "$usage"
compat_coord validate "$@"
