#!/usr/bin/env bash
# Make this machine build2: scripts/setup_build.sh 2 [options] (see its --help).
set -euo pipefail
case ${BASH_SOURCE[0]} in */*) here=${BASH_SOURCE[0]%/*} ;; *) here=. ;; esac
exec bash "$here/setup_build.sh" 2 "$@"
