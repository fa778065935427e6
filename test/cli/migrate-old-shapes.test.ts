/**
 * `coord migrate` on old shapes the second fresh-user trial found: builder status and
 * heartbeat files in the upstream shape (`server_id`, `status`, `last_update`), a lock
 * written with `holder`, a committed `.build_server_id`, and no `.gitattributes` /
 * `.gitignore`. Without `--remove-derived`: refused (exit 3, naming the flag), nothing
 * changed; a dry run reports everything (exit 0: every problem has a flag); with the flag:
 * one commit that removes the obsolete files, untracks `.build_server_id` (the file stays)
 * and adds the merge-driver and ignore lines, after which doctor-relevant files are right.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { runCoordCli } from '../support/cli.js';
import { commitCount, fingerprintTree, git, initGitRepo, makeCoordTree, readJson, removeTree, writeJson } from '../support/tree.js';

const ENV = { COORD_BUILDER: 'build1' };
const coord = (root: string, ...args: string[]) => runCoordCli(['--repo', root, ...args], { cwd: root, env: ENV });

describe('coord migrate: old builder-owned shapes, a committed identity, missing git setup', () => {
  let root: string;

  beforeAll(async () => {
    root = await makeCoordTree({ builders: 2, prefix: 'coord-migrate-old-' });
    await fs.rm(path.join(root, '.gitattributes'));
    await fs.rm(path.join(root, '.gitignore'));
    await writeJson(root, 'build2/status.json', { server_id: 'build2', status: 'idle', last_update: '2025-11-04 20:45' });
    await writeJson(root, 'build1/heartbeat.json', { server_id: 'build1', last_update: '2025-11-04 20:45' });
    await writeJson(root, 'coordination/locks.json', [{ name: 'deploy', holder: 'build1', timestamp: '2025-11-04 20:45' }]);
    await fs.writeFile(path.join(root, '.build_server_id'), '1\n');
    initGitRepo(root);
  });

  afterAll(() => removeTree(root));

  test('without --remove-derived: exit 3 naming the flag, nothing changed', async () => {
    const commits = commitCount(root);
    const before = await fingerprintTree(root);
    const r = await coord(root, 'migrate');
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/cannot migrate: 2 problem\(s\): 2 fixed by coord migrate --remove-derived; nothing was written/);
    expect(r.stderr).toMatch(/build2\/status\.json: .*obsolete shape that cannot be normalised .*build2's next heartbeat rewrites it \(--remove-derived fixes it\)/);
    expect(r.stderr).toMatch(/build1\/heartbeat\.json: .*--remove-derived fixes it/);
    expect(await fingerprintTree(root)).toEqual(before);
    expect(commitCount(root)).toBe(commits);
  });

  test('a dry run reports everything with the flag that fixes it (exit 0), nothing changed', async () => {
    const commits = commitCount(root);
    const before = await fingerprintTree(root);
    const r = await coord(root, 'migrate', '--dry-run');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^would rewrite coordination\/locks\.json: .*locks as an array/m);
    expect(r.stdout).toMatch(/^would rewrite \.gitattributes: merge driver lines added/m);
    expect(r.stdout).toMatch(/^would rewrite \.gitignore: \.build_server_id added/m);
    expect(r.stdout).toMatch(/^obsolete build2\/status\.json: kept \(--remove-derived removes it\)/m);
    expect(r.stdout).toMatch(/^obsolete \.build_server_id: committed, so every new clone starts as the same builder \(--remove-derived untracks it; the file stays\)/m);
    expect(r.stdout).toMatch(/^problem: build2\/status\.json: .*: --remove-derived fixes it$/m);
    expect(r.stdout).toMatch(/every one is fixed by: coord migrate --remove-derived/);
    expect(await fingerprintTree(root)).toEqual(before);
    expect(commitCount(root)).toBe(commits);
  });

  test('--remove-derived: one commit; obsolete files removed, identity untracked (kept on disk), git setup added; twice changes nothing', async () => {
    const commits = commitCount(root);
    const r = await coord(root, 'migrate', '--remove-derived');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^obsolete \.build_server_id: untracked in the commit \(the file stays\)/m);
    expect(commitCount(root)).toBe(commits + 1);
    const changed = git(root, ['show', '--name-status', '--format=', 'HEAD']).stdout.trim().split('\n').sort();
    expect(changed).toEqual(['A\t.gitattributes', 'A\t.gitignore', 'D\t.build_server_id', 'D\tbuild1/heartbeat.json', 'D\tbuild2/status.json', 'M\tcoordination/locks.json']);
    expect(existsSync(path.join(root, '.build_server_id'))).toBe(true);
    expect(existsSync(path.join(root, 'build2/status.json'))).toBe(false);
    expect(git(root, ['ls-files', '.build_server_id']).stdout).toBe('');
    expect(git(root, ['status', '--porcelain']).stdout).toBe('');
    expect(await fs.readFile(path.join(root, '.gitattributes'), 'utf8')).toMatch(/^coordination\/\*\.json merge=coord-json$/m);
    expect(await fs.readFile(path.join(root, '.gitignore'), 'utf8')).toBe('.build_server_id\n');
    // `holder` is read as the lock's owner.
    expect(await readJson(root, 'coordination/locks.json')).toMatchObject({ locks: { deploy: { locked_by: 'build1', locked_at: '2025-11-04T20:45:00Z' } } });
    expect((await coord(root, 'validate')).exitCode).toBe(0);

    const again = await coord(root, 'migrate', '--remove-derived');
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/nothing to migrate/);
    expect(commitCount(root)).toBe(commits + 1);
  });
});
