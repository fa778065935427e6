#!/usr/bin/env bash
# create_job.sh BRANCH COMMIT [PRIORITY] [DESCRIPTION]
# Compatibility wrapper (MIGRATION.md): queues one job of type $COORD_COMPAT_JOB_TYPE
# (default build) for BRANCH at COMMIT; prints its id.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/compat.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/compat.sh"

usage="create_job.sh BRANCH COMMIT [PRIORITY] [DESCRIPTION]"
compat_deprecated "coord jobs add --type TYPE --branch BRANCH --commit COMMIT [--priority N] [--description TEXT]"
(($# >= 2 && $# <= 4)) || compat_usage "expected 2 to 4 arguments, got $#" "$usage"
compat_require "$usage" BRANCH "$1"
compat_require "$usage" COMMIT "$2"
compat_not_option "$usage" BRANCH "$1"
compat_not_option "$usage" COMMIT "$2"
# Values go as --opt=VALUE, so a value starting with "-" (a note "-5 is …") stays a value.
extra=()
if (($# >= 3)); then extra+=("--priority=$3"); fi
if (($# == 4)); then extra+=("--description=$4"); fi
compat_coord jobs add "--type=${COORD_COMPAT_JOB_TYPE:-build}" "--branch=$1" "--commit=$2" ${extra[@]+"${extra[@]}"}
