/**
 * What the demo builds: this project's own repository (the folder bin/coord.js lives in),
 * the commits to build and the test suites to run at a commit — chosen from the history
 * that is there, so a clean clone works and a shallow one degrades with a note.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { git } from '../git/run.js';
import { HERMETIC_GIT_ENV } from './env.js';

export interface SourceCommit {
  sha: string;
  short: string;
  subject: string;
}

export interface DemoSource {
  /** The project folder (holds node_modules, the toolchain the jobs reuse). */
  root: string;
  /** Its git folder: the jobs' `source_repo`. */
  gitDir: string;
  /** HEAD first, then earlier commits on the first-parent line that hold a build. */
  commits: SourceCommit[];
  /** Why fewer commits than asked were found (shallow clone…), else null. */
  note: string | null;
}

/**
 * Pure test suites (no git, no processes) that run in about a second; the `test` job runs
 * those present at its commit.
 */
export const FAST_SUITES: readonly string[] = [
  'test/util/time.test.ts',
  'test/util/ids.test.ts',
  'test/store/canonical.test.ts',
  'test/store/parse.test.ts',
  'test/merge/merge-records.test.ts',
  'test/schemas/types-drift.test.ts',
];

const g = async (cwd: string, args: string[]) => (await git(cwd, args, { env: HERMETIC_GIT_ENV, allowFailure: true })).stdout.trim();

/**
 * Finds the project's repository and up to `count` buildable commits (HEAD first).
 * @throws Error when the project folder is not a git repository with at least one commit
 */
export async function findSource(root: string, count: number): Promise<DemoSource> {
  const top = await g(root, ['rev-parse', '--show-toplevel']);
  if (!top || !existsSync(path.join(root, 'package.json'))) {
    throw new Error(`${root} is not a git checkout of build-coord; the demo builds the project's own commits, so run it from a git clone (git clone … && npm ci && npm start)`);
  }
  const gitDir = path.resolve(root, await g(root, ['rev-parse', '--git-dir']));
  const log = await g(root, ['log', '--first-parent', '--format=%H %h %s', '-n', '50', 'HEAD']);
  const all = log.split('\n').filter(Boolean).map((l) => {
    const [sha = '', short = '', ...rest] = l.split(' ');
    return { sha, short, subject: rest.join(' ') };
  });
  if (!all.length) throw new Error(`${root} has no commit yet; the demo builds committed code`);
  const commits: SourceCommit[] = [];
  const skipped: string[] = [];
  for (const c of all) {
    if (commits.length >= count) break;
    const files = await g(root, ['ls-tree', '--name-only', c.sha, 'tsconfig.json', 'package.json', 'lib']);
    if (files.split('\n').length < 3) continue;
    const missing = await unresolvedImports(root, c.sha);
    if (missing.length) { skipped.push(`${c.short} (${missing[0]})`); continue; }
    commits.push(c);
  }
  const shallow = (await g(root, ['rev-parse', '--is-shallow-repository'])) === 'true';
  const notes: string[] = [];
  if (skipped.length) notes.push(`skipped commit(s) that cannot compile: ${skipped.join(', ')}`);
  if (commits.length < count) notes.push(`only ${commits.length} buildable commit(s) in ${shallow ? 'this shallow clone' : 'the history'}; building ${commits.length} instead of ${count}`);
  const note = notes.length ? notes.join('; ') : null;
  return { root, gitDir, commits, note };
}

/**
 * Relative imports in lib/ at `sha` whose target file is not in that commit (a commit made
 * before a new file was added compiles nowhere): `lib/a.ts → ./b.js`. Pure git, no build.
 */
export async function unresolvedImports(root: string, sha: string): Promise<string[]> {
  const tree = new Set((await g(root, ['ls-tree', '-r', '--name-only', sha, '--', 'lib'])).split('\n').filter(Boolean));
  const hits = await g(root, ['grep', '-o', '-E', '-e', "(from|import\\() *'\\.{1,2}/[^']+'", sha, '--', 'lib/*.ts']);
  const out: string[] = [];
  for (const line of hits.split('\n').filter(Boolean)) {
    const m = /^[^:]+:([^:]+):.*'(\.{1,2}\/[^']+)'$/.exec(line);
    if (!m) continue;
    const [, file = '', spec = ''] = m;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts');
    if (!tree.has(target)) out.push(`${file} → ${spec}`);
  }
  return out;
}

/** The suites of {@link FAST_SUITES} present at `sha`. */
export async function suitesAt(root: string, sha: string): Promise<string[]> {
  const out = await g(root, ['ls-tree', '-r', '--name-only', sha, '--', ...FAST_SUITES]);
  const present = new Set(out.split('\n').filter(Boolean));
  return FAST_SUITES.filter((s) => present.has(s));
}
