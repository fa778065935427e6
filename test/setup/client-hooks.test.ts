/**
 * Where and how `coord hook install` writes the client hooks (lib/hooks/client-hooks.ts),
 * on real repositories: the default hooks folder, a local core.hooksPath, a refused global
 * one, an outdated hook of ours, and --dry-run.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CoordError } from '../../lib/errors.js';
import { hookScript, inspectClientHooks, installClientHooks, locateHooks } from '../../lib/hooks/client-hooks.js';
import { git, makeTempDir, removeTree } from '../support/tree.js';

const node = process.execPath;
const coordJs = '/opt/build-coord/bin/coord.js';
let repo: string;
beforeEach(async () => {
  repo = await makeTempDir('coord-hooks-');
  git(repo, ['init', '-q', '-b', 'main']);
});
afterEach(async () => { await removeTree(repo); });

test('default: <git-common-dir>/hooks; a second install is already done and rewrites nothing', async () => {
  const first = await installClientHooks({ repoRoot: repo, node, coordJs, dryRun: false });
  const file = path.join(repo, '.git/hooks/pre-commit');
  expect(first).toEqual([{ name: 'pre-commit', path: file, status: 'done', detail: file }]);
  expect(readFileSync(file, 'utf8')).toBe(hookScript('pre-commit', node, coordJs));
  const mtime = statSync(file).mtimeMs;
  const again = await installClientHooks({ repoRoot: repo, node, coordJs, dryRun: false });
  expect(again[0]?.status).toBe('already done');
  expect(statSync(file).mtimeMs).toBe(mtime);
  expect(await inspectClientHooks(repo, coordJs)).toEqual([{ name: 'pre-commit', path: file, ok: true, problem: null }]);
  expect((await inspectClientHooks(repo, '/elsewhere/bin/coord.js'))[0]).toMatchObject({ ok: false, problem: expect.stringMatching(/calls \/opt\/build-coord\/bin\/coord\.js, not this installation's/) });
});

test('a local core.hooksPath (relative to the work tree) is honoured', async () => {
  git(repo, ['config', 'core.hooksPath', '.githooks']);
  expect(await locateHooks(repo)).toEqual({ dir: path.join(repo, '.githooks'), source: 'local' });
  await installClientHooks({ repoRoot: repo, node, coordJs, dryRun: false });
  expect(existsSync(path.join(repo, '.githooks/pre-commit'))).toBe(true);
  expect(existsSync(path.join(repo, '.git/hooks/pre-commit'))).toBe(false);
});

test('a core.hooksPath from global config is refused: the hook would run in every repository', async () => {
  const globalConfig = path.join(repo, 'global.gitconfig');
  writeFileSync(globalConfig, '[core]\n\thooksPath = /srv/shared-hooks\n');
  const saved = process.env.GIT_CONFIG_GLOBAL;
  process.env.GIT_CONFIG_GLOBAL = globalConfig;
  try {
    const err = await installClientHooks({ repoRoot: repo, node, coordJs, dryRun: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoordError);
    expect((err as CoordError).code).toBe('E_USAGE');
    expect((err as CoordError).message).toMatch(/core\.hooksPath is set in global git config \(\/srv\/shared-hooks\).*config core\.hooksPath \.git\/hooks/);
  } finally {
    process.env.GIT_CONFIG_GLOBAL = saved;
  }
});

test('an older hook of ours is updated, saying what it called; --dry-run only reports', async () => {
  const file = path.join(repo, '.git/hooks/pre-commit');
  writeFileSync(file, hookScript('pre-commit', node, '/old/bin/coord.js'), { mode: 0o755 });
  const dry = await installClientHooks({ repoRoot: repo, node, coordJs, dryRun: true });
  expect(dry[0]).toMatchObject({ status: 'would do', detail: expect.stringContaining('it called /old/bin/coord.js') });
  expect(readFileSync(file, 'utf8')).toContain('/old/bin/coord.js');
  const real = await installClientHooks({ repoRoot: repo, node, coordJs, dryRun: false });
  expect(real[0]?.status).toBe('done');
  expect(readFileSync(file, 'utf8')).toBe(hookScript('pre-commit', node, coordJs));
  expect(existsSync(file + '.pre-coord')).toBe(false); // ours is replaced, not kept
});
