#!/usr/bin/env bash
# Job type `build` (coord demo): compiles the checked-out commit of build-coord with the
# TypeScript compiler and packs dist/ and package.json into build-coord-<shortsha>.tgz in
# the checkout (the artifact the job type's glob collects).
#
# The tarball is reproducible — sorted names, fixed owner, mtime of the commit, gzip
# without a timestamp — so two builds of one commit give the same sha256 on any builder.
# Runs with the checkout as working folder (the daemon checks out COORD_COMMIT there).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sha="$(git rev-parse --short=12 HEAD)"
echo "build: ${COORD_JOB_ID:-?} attempt ${COORD_ATTEMPT:-?} on ${COORD_BUILDER:-?}: commit $sha ($(git log -1 --format=%s HEAD))"
"$here/link-toolchain.sh"

rm -rf dist
started=$SECONDS
node_modules/.bin/tsc -p tsconfig.json
echo "compiled $(find dist -name '*.js' | wc -l) files in $((SECONDS - started)) s"

out="build-coord-${sha}.tgz"
mtime="$(git log -1 --format=%ct HEAD)"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@${mtime}" -cf - dist package.json | gzip -n -9 > "$out"
echo "packed $out: $(stat -c %s "$out") bytes, sha256 $(sha256sum "$out" | cut -d' ' -f1)"
