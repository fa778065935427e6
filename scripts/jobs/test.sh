#!/usr/bin/env bash
# Job type `test` (coord demo): runs a fast part of build-coord's test suite at the
# checked-out commit. COORD_PARAM_SUITES (job param `suites`) lists the suite files,
# space-separated; they must exist at that commit. The suites' global set-up wants dist/,
# so the commit is compiled first.
#
# jest skips every file whose path has a `.git` folder in it, and the daemon's workspaces
# live under the builder clone's .git/coord/work/: the suites run from a throw-away clone
# of the checkout in the temp folder instead.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${COORD_PARAM_SUITES:?give the job a param suites=\"test/a.test.ts test/b.test.ts\"}"
read -r -a suites <<< "$COORD_PARAM_SUITES"
sha="$(git rev-parse HEAD)"
echo "test: ${COORD_JOB_ID:-?} on ${COORD_BUILDER:-?}: commit ${sha:0:12}, ${#suites[@]} suite(s)"

work="$(mktemp -d "${TMPDIR:-/tmp}/coord-test-XXXXXX")"
trap 'rm -rf "$work"' EXIT
git clone -q --shared --no-checkout . "$work/src"
cd "$work/src"
git checkout -q --detach "$sha"
"$here/link-toolchain.sh"
for s in "${suites[@]}"; do
  [[ -f "$s" ]] || { echo "test: $s does not exist at this commit" >&2; exit 2; }
done

node_modules/.bin/tsc -p tsconfig.json
export NO_COLOR=1
node --experimental-vm-modules node_modules/jest/bin/jest.js --ci --colors=false \
  --cacheDirectory "$work/jest-cache" --maxWorkers=1 -- "${suites[@]}"
