#!/usr/bin/env bash
# Make this machine build1: scripts/setup_build.sh 1 [options] (see its --help).
set -euo pipefail
case ${BASH_SOURCE[0]} in */*) here=${BASH_SOURCE[0]%/*} ;; *) here=. ;; esac
exec bash "$here/setup_build.sh" 1 "$@"
