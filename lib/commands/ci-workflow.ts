/**
 * The CI workflow `coord init --ci github` adds: on a hosted remote (GitHub, and anything
 * that runs GitHub Actions workflows, such as Gitea/Forgejo Actions) no server hook of ours
 * can run, so this is the stand-in for the pre-receive hook of `coord remote setup`: every
 * push and pull request is checked with `coord validate`, and record loss against the
 * previous state with `coord validate --staged` (DESIGN.md section 3; METHODOLOGY.md
 * "Editing JSON by hand"). A check after the fact: it marks the push red, it cannot refuse it.
 *
 * No hard-coded paths: the workflow runs the repository's own `bin/coord.js` when the
 * repository is the build-coord project itself (the usual set-up, where the project repo is
 * the coordination repo), otherwise the package named by the repository variable
 * `COORD_PACKAGE` (an npm spec, e.g. `git+https://git.example/build-coord.git#v0.1.0`).
 */

/** Where the workflow goes, relative to the repository root. */
export const GITHUB_WORKFLOW_PATH = '.github/workflows/coord-validate.yml';

/** The CI systems `coord init --ci` knows. */
export const CI_KINDS = ['github'] as const;
export type CiKind = (typeof CI_KINDS)[number];

/** The install step's script (bash on the runner). Exported for the syntax test. */
export const INSTALL_SCRIPT = [
  'if [ -f bin/coord.js ] && [ -f package-lock.json ]; then',
  '  npm ci --no-audit --no-fund',
  '  echo "COORD=node bin/coord.js" >> "$GITHUB_ENV"',
  'elif [ -n "$COORD_PACKAGE" ]; then',
  '  npm install --global --no-audit --no-fund "$COORD_PACKAGE"',
  '  echo "COORD=coord" >> "$GITHUB_ENV"',
  'else',
  '  echo "::error::this repository does not contain build-coord: set the repository variable COORD_PACKAGE to its npm spec (e.g. a git URL)"',
  '  exit 1',
  'fi',
];

/**
 * The record-loss step's script: move HEAD back to the state before this push (or to the
 * pull request's base) without touching the index, so that `--staged` compares everything
 * the push or pull request changes with what was there before.
 */
export const RECORD_LOSS_SCRIPT = [
  'if [ "$GITHUB_EVENT_NAME" = pull_request ]; then',
  '  base="$(git rev-parse -q --verify HEAD^1 || true)"   # the merge commit\'s base side',
  'else',
  '  base="$BEFORE"',
  'fi',
  'if [ -z "$base" ] || ! git cat-file -e "$base^{commit}" 2>/dev/null; then',
  '  echo "no earlier state to compare with (new branch, first push or force-push): record-loss check skipped"',
  '  exit 0',
  'fi',
  'git reset --quiet --soft "$base"',
  '$COORD validate --staged',
];

function block(lines: readonly string[], indent: string): string {
  return lines.map((l) => indent + l).join('\n');
}

/** The workflow file's text. */
export function githubWorkflow(): string {
  return [
    '# build-coord: validate the coordination files on every push and pull request.',
    '# Added by `coord init --ci github` (coord init keeps an existing copy; edit it freely).',
    '# A hosted git server runs no hooks of ours, so this stands in for the pre-receive hook',
    '# of `coord remote setup`: it cannot refuse a push, but it marks a bad one red.',
    '#',
    '# Which coord runs: this repository\'s own bin/coord.js when it is the build-coord project',
    '# (the usual set-up), otherwise the package in the repository variable COORD_PACKAGE',
    '# (an npm spec, e.g. git+https://git.example/build-coord.git#v0.1.0).',
    '# A deliberate clean-up that drops records fails the last step; re-run it knowingly or',
    '# archive the records first (coordination/archive/).',
    'name: coord validate',
    '',
    'on:',
    '  push:',
    '  pull_request:',
    '',
    'permissions:',
    '  contents: read',
    '',
    'jobs:',
    '  validate:',
    '    runs-on: ubuntu-latest',
    '    timeout-minutes: 10',
    '    steps:',
    '      - uses: actions/checkout@v4',
    '        with:',
    '          fetch-depth: 0',
    '      - uses: actions/setup-node@v4',
    '        with:',
    '          node-version: 20',
    '      - name: Install build-coord',
    '        env:',
    '          COORD_PACKAGE: ${{ vars.COORD_PACKAGE }}',
    '        run: |',
    block(INSTALL_SCRIPT, '          '),
    '      - name: Validate every coordination file',
    '        run: $COORD validate',
    '      - name: Refuse record loss (jobs or messages dropped without archiving)',
    '        env:',
    '          BEFORE: ${{ github.event.before }}',
    '        run: |',
    block(RECORD_LOSS_SCRIPT, '          '),
    '',
  ].join('\n');
}
