#!/usr/bin/env bash
# Job type `sleepy` (npm run chaos): works for COORD_PARAM_SECONDS seconds in a child
# process, and leaves a grandchild in its own session (setsid) that must not outlive the
# job: the daemon finds it by its COORD_JOB_ID tag when the job is cancelled or lost.
set -euo pipefail

secs="${COORD_PARAM_SECONDS:-1}"
echo "sleepy: ${COORD_JOB_ID:-?} attempt ${COORD_ATTEMPT:-?} on ${COORD_BUILDER:-?}: ${secs} s"
if command -v setsid >/dev/null; then
  setsid sleep "$secs" </dev/null >/dev/null 2>&1 &
fi
sleep "$secs" &
wait "$!"
echo "sleepy: done"
