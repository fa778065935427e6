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
compat_require "$usage" buildN "$1"
case "$2" in
  idle | building | success | failed) ;;
  *) compat_usage "STATUS \"$2\": give idle, building, success or failed" "$usage" ;;
esac
compat_coord --builder "$1" heartbeat
