#!/usr/bin/env bash
# Job type `smoke` (coord demo, and jobs an agent adds by hand): says where it runs and
# what it was given, then works for COORD_PARAM_SECONDS seconds (default 1).
set -euo pipefail

secs="${COORD_PARAM_SECONDS:-1}"
echo "smoke: ${COORD_JOB_ID:-?} attempt ${COORD_ATTEMPT:-?} on ${COORD_BUILDER:-?} in $(pwd)"
echo "branch=${COORD_BRANCH:-} commit=${COORD_COMMIT:-} note=${COORD_PARAM_NOTE:-}"
sleep "$secs"
echo "smoke: done after ${secs} s"
