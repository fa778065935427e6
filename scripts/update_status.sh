#!/usr/bin/env bash
# update_status.sh buildN STATUS [JOB_ID]
# Compatibility wrapper (MIGRATION.md). STATUS (idle, building, success, failed) is no
# longer written by hand: a builder's status is derived from the queue (a job is running
# when it is claimed; it ends with job_queue.sh complete / coord jobs complete). This
# refreshes buildN's heartbeat and status from the queue, like coord heartbeat.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/compat.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/compat.sh"

usage="update_status.sh buildN idle|building|success|failed [JOB_ID]"
compat_deprecated "coord heartbeat (status follows the queue: coord jobs claim / coord jobs complete)"
(($# == 2 || $# == 3)) || compat_usage "expected 2 or 3 arguments, got $#" "$usage"
compat_builder "$usage" "$1"
case "$2" in
  idle | building | success | failed) ;;
  *) compat_usage "STATUS \"$2\": give idle, building, success or failed" "$usage" ;;
esac
if (($# == 3)); then compat_not_option "$usage" JOB_ID "$3"; fi
ignored="STATUS \"$2\""
if (($# == 3)); then ignored+=" and JOB_ID \"$3\""; fi
echo "$COMPAT_PROG: note: $ignored ignored: a builder's status now follows the queue (coord jobs claim / coord jobs complete); only $COMPAT_BUILDER's heartbeat is refreshed" >&2
compat_coord "--builder=$COMPAT_BUILDER" heartbeat
