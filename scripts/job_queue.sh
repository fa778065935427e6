#!/usr/bin/env bash
# job_queue.sh add BRANCH COMMIT [PRIORITY] | get-next | complete JOB_ID STATUS [DURATION_S] | list [STATUS]
# Compatibility wrapper (MIGRATION.md) over coord jobs. Jobs added here are of type
# $COORD_COMPAT_JOB_TYPE (default build; it must be defined in shared/build_config.json).
# get-next claims the next job for this builder (exit 5 when there is none); complete
# records the end of a job this builder claimed (STATUS: completed, failed or cancelled).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/compat.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/compat.sh"

usage="job_queue.sh add BRANCH COMMIT [PRIORITY] | get-next | complete JOB_ID STATUS [DURATION_S] | list [STATUS]"
(($# >= 1)) || compat_usage "name a subcommand: add, get-next, complete, list" "$usage"
sub=$1
shift
case "$sub" in
  add)
    compat_deprecated "coord jobs add --type TYPE --branch BRANCH --commit COMMIT [--priority N]"
    (($# == 2 || $# == 3)) || compat_usage "add takes BRANCH COMMIT [PRIORITY], got $# argument(s)" "$usage"
    compat_require "$usage" BRANCH "$1"
    compat_require "$usage" COMMIT "$2"
    compat_not_option "$usage" BRANCH "$1"
    compat_not_option "$usage" COMMIT "$2"
    prio=()
    if (($# == 3)); then prio=("--priority=$3"); fi
    compat_coord jobs add "--type=${COORD_COMPAT_JOB_TYPE:-build}" "--branch=$1" "--commit=$2" ${prio[@]+"${prio[@]}"}
    ;;
  get-next)
    compat_deprecated "coord jobs claim"
    (($# == 0)) || compat_usage "get-next takes no argument" "$usage"
    compat_coord jobs claim
    ;;
  complete)
    compat_deprecated "coord jobs complete JOB_ID --status STATUS [--duration S]"
    (($# == 2 || $# == 3)) || compat_usage "complete takes JOB_ID STATUS [DURATION_S], got $# argument(s)" "$usage"
    compat_require "$usage" JOB_ID "$1"
    compat_require "$usage" STATUS "$2"
    compat_not_option "$usage" JOB_ID "$1"
    dur=()
    if (($# == 3)); then dur=("--duration=$3"); fi
    compat_coord jobs complete "$1" "--status=$2" ${dur[@]+"${dur[@]}"}
    ;;
  list)
    compat_deprecated "coord jobs list [--status STATUS]"
    (($# <= 1)) || compat_usage "list takes at most one STATUS" "$usage"
    if (($# == 1)); then
      compat_require "$usage" STATUS "$1"
      compat_coord jobs list "--status=$1"
    fi
    compat_coord jobs list
    ;;
  *)
    compat_usage "unknown subcommand \"$sub\" (add, get-next, complete, list)" "$usage"
    ;;
esac
