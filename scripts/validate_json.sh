#!/usr/bin/env bash
# validate_json.sh FILE...
# Compatibility wrapper (MIGRATION.md): schema-checks the given coordination files; one
# line per problem (file: /json/pointer: reason), exit 3 when any is invalid.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/compat.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/compat.sh"

usage="validate_json.sh FILE..."
compat_deprecated "coord validate FILE..."
# A leading -- ends options, as for most commands; a file name starting with "-" would be
# read by coord as an option (write ./-name).
if (($# >= 1)) && [[ "$1" == -- ]]; then shift; fi
(($# >= 1)) || compat_usage "name at least one file" "$usage"
for f in "$@"; do
  [[ "$f" != -* ]] || compat_usage "FILE \"$f\" starts with \"-\": options are not accepted (for a file of that name write ./$f)" "$usage"
done
compat_coord validate "$@"
