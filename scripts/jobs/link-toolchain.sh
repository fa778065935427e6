#!/usr/bin/env bash
# Makes the installed toolchain (TypeScript, jest…) of a build-coord installation usable in
# a job's checkout without network: links $COORD_TOOLCHAIN/node_modules into the current
# folder. Used by build.sh and test.sh (job types of `coord demo`); COORD_TOOLCHAIN comes
# from the job type's `env` in shared/build_config.json.
set -euo pipefail

: "${COORD_TOOLCHAIN:?COORD_TOOLCHAIN is not set: give the job type env.COORD_TOOLCHAIN (a folder holding node_modules)}"
if [[ ! -d "$COORD_TOOLCHAIN/node_modules" ]]; then
  echo "link-toolchain: $COORD_TOOLCHAIN/node_modules does not exist; run npm ci there" >&2
  exit 3
fi
if [[ -e node_modules && ! -L node_modules ]]; then
  echo "link-toolchain: $(pwd)/node_modules exists and is not a link; leaving it alone" >&2
else
  ln -sfn "$COORD_TOOLCHAIN/node_modules" node_modules
fi
echo "toolchain: $(readlink node_modules 2>/dev/null || echo node_modules), node $(node --version), tsc $(node_modules/.bin/tsc --version | sed 's/^Version //')"
