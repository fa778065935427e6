/**
 * `coord migrate` (issue 2, "Legacy shapes"; DESIGN.md section 1): files in each legacy
 * shape of the upstream shell tooling become canonical files that validate, in one commit;
 * a dry run shows the diff and writes nothing; a second run changes nothing; an invalid
 * file stops everything.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseSingleJson, runCoordCli } from '../support/cli.js';
import { commitCount, fingerprintTree, git, initGitRepo, makeCoordTree, readJson, removeTree, writeJson } from '../support/tree.js';

const JOBS = 'coordination/jobs.json';
const MESSAGES = 'coordination/messages.json';
const LOCKS = 'coordination/locks.json';
const STATUS1 = 'build1/status.json';

type Obj = Record<string, unknown>;
/** The identity is fixed so the host's /etc/build_server_id or hostname cannot matter. */
const ENV = { COORD_BUILDER: 'build1' };

const coord = (root: string, ...args: string[]) => runCoordCli(['--repo', root, ...args], { cwd: root, env: ENV });

/** Writes one file in each legacy shape the upstream tooling produced (no "$schema" anywhere). */
async function writeLegacyFiles(root: string): Promise<void> {
  await writeJson(root, LOCKS, [
    { name: 'job_assignment', owner: 'build1', timestamp: '2025-11-04 20:45' },
    { name: 'deploy', owner: 'build2', timestamp: '2025-11-04T20:45:12.123456', note: 'kept' },
  ]);
  await writeJson(root, MESSAGES, {
    messages: [
      // to one builder, read: read by that builder; no type/priority/tags/subject; an extra field
      { id: 'm1', from: 'build1', to: 'build2', body: 'first line\nsecond', timestamp: '2025-11-04 20:45:12', read: true, x_site: { keep: 1 } },
      // broadcast, read: read by every builder but the sender
      { id: 'm2', from: 'build1', to: 'all', subject: 'bc', body: 'b', timestamp: '2025-11-04T20:45:12+02:00', read: true },
      // broadcast, unread
      { id: 'm3', from: 'build2', to: 'all', subject: 'bc', body: 'b', timestamp: '2025-11-04T20:45:12Z', read: false, type: 'warning', priority: 'high' },
      // to a list, read
      { id: 'm4', from: 'build2', to: ['build1', 'build3'], subject: 's', body: 'b', timestamp: '2025-11-04 20:45', read: true },
    ],
  });
  await writeJson(root, JOBS, {
    jobs: [
      { id: 'j1', type: 'noop', priority: 2, status: 'queued', created_at: '2025-11-04T20:45:12.123456', site_field: { a: 1 } },
      { id: 'j2', type: 'noop', priority: 1, status: 'running', assigned_to: 'build1', created_at: '2025-11-04 20:45' },
    ],
  });
  const status = (await readJson(root, STATUS1)) as Obj;
  delete status.$schema;
  status.updated_at = '2025-11-04 20:45:12';
  await writeJson(root, STATUS1, status);
}

describe('coord migrate', () => {
  let root: string;

  beforeEach(async () => {
    root = await makeCoordTree({ builders: 3, prefix: 'coord-migrate-' });
  });

  afterEach(async () => {
    await removeTree(root);
  });

  test('dry run shows the diff and writes nothing; migrate makes one commit of valid canonical files; a second run changes nothing', async () => {
    await writeLegacyFiles(root);
    initGitRepo(root);
    const commits = commitCount(root);

    // The legacy files are accepted as they are.
    expect((await coord(root, 'validate')).exitCode).toBe(0);

    // --dry-run: a unified diff per file, nothing written (not even in .git).
    const before = await fingerprintTree(root);
    const dry = await coord(root, 'migrate', '--dry-run');
    expect(dry.exitCode).toBe(0);
    for (const f of [LOCKS, MESSAGES, JOBS, STATUS1]) {
      expect(dry.stdout).toContain(`--- a/${f}`);
      expect(dry.stdout).toContain(`+++ b/${f}`);
      expect(dry.stdout).toMatch(new RegExp(`^would rewrite ${f.replace(/[./]/g, '\\$&')}: `, 'm'));
    }
    expect(dry.stdout).toContain('+    "job_assignment": {');
    expect(dry.stdout).toMatch(/^-\[$/m);
    expect(await fingerprintTree(root)).toEqual(before);

    // migrate: one commit with exactly the rewritten files; the working tree is clean.
    const run = await coord(root, 'migrate');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^committed [0-9a-f]{12}$/m);
    expect(commitCount(root)).toBe(commits + 1);
    const changed = git(root, ['show', '--name-only', '--format=', 'HEAD']).stdout.trim().split('\n').sort();
    expect(changed).toEqual([STATUS1, JOBS, LOCKS, MESSAGES].sort());
    expect(git(root, ['status', '--porcelain']).stdout).toBe('');
    expect(git(root, ['log', '-1', '--format=%B']).stdout).toContain('Coord-Action: migrate');

    // Everything validates, with no legacy shape left.
    const check = await coord(root, 'validate');
    expect(check.exitCode).toBe(0);
    expect(check.stdout).toBe('');
    expect(check.stderr).not.toContain('legacy shape');

    // Every rewritten file is in the canonical format: 2-space JSON, trailing newline, $schema first.
    for (const f of [LOCKS, MESSAGES, JOBS, STATUS1]) {
      const text = await fs.readFile(path.join(root, f), 'utf8');
      const doc = JSON.parse(text) as Obj;
      expect(text).toBe(JSON.stringify(doc, null, 2) + '\n');
      expect(Object.keys(doc)[0]).toBe('$schema');
    }

    // Messages: per-recipient read_by from the single read flag; defaults; extra fields kept.
    const msgs = ((await readJson(root, MESSAGES)) as { messages: Obj[] }).messages;
    const byId = Object.fromEntries(msgs.map((m) => [m.id as string, m]));
    expect(byId.m1).toMatchObject({ read_by: ['build2'], acked_by: [], type: 'info', priority: 'normal', tags: [], subject: 'first line', timestamp: '2025-11-04T20:45:12Z', x_site: { keep: 1 } });
    expect(byId.m1).not.toHaveProperty('read');
    expect(Object.keys(byId.m1).at(-1)).toBe('x_site');
    expect(byId.m2).toMatchObject({ read_by: ['build2', 'build3'], timestamp: '2025-11-04T18:45:12Z' });
    expect(byId.m3).toMatchObject({ read_by: [], type: 'warning', priority: 'high' });
    expect(byId.m4).toMatchObject({ read_by: ['build1', 'build3'], timestamp: '2025-11-04T20:45:00Z' });

    // Locks: an object keyed by name, owner/timestamp renamed, expiry from the lease time, a token.
    const locks = ((await readJson(root, LOCKS)) as { locks: Record<string, Obj> }).locks;
    expect(Object.keys(locks)).toEqual(['job_assignment', 'deploy']);
    expect(locks.job_assignment).toEqual({ locked_by: 'build1', locked_at: '2025-11-04T20:45:00Z', expires_at: '2025-11-04T20:50:00Z', token: expect.stringMatching(/^legacy-[0-9a-f]{24}$/) });
    expect(locks.deploy).toMatchObject({ locked_by: 'build2', locked_at: '2025-11-04T20:45:12Z', expires_at: '2025-11-04T20:50:12Z', note: 'kept' });

    // Jobs: attempt/history filled (a running job has had one attempt); unknown fields kept last.
    const jobs = ((await readJson(root, JOBS)) as { jobs: Obj[] }).jobs;
    expect(jobs[0]).toMatchObject({ id: 'j1', attempt: 0, history: [], created_at: '2025-11-04T20:45:12Z', site_field: { a: 1 } });
    expect(Object.keys(jobs[0]).at(-1)).toBe('site_field');
    expect(jobs[1]).toMatchObject({ id: 'j2', attempt: 1, assigned_to: 'build1', created_at: '2025-11-04T20:45:00Z' });

    expect(((await readJson(root, STATUS1)) as Obj).updated_at).toBe('2025-11-04T20:45:12Z');

    // Second run: nothing to do, no commit, nothing written.
    const settled = await fingerprintTree(root);
    const again = await coord(root, 'migrate');
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/nothing to migrate/);
    expect(commitCount(root)).toBe(commits + 1);
    expect(await fingerprintTree(root)).toEqual(settled);
  });

  test.each([
    ['an object keyed by name with owner/timestamp', { locks: { job_assignment: { owner: 'build2', timestamp: '2025-11-04 20:45' } } }],
    ['a bare object keyed by name (no "locks" wrapper)', { job_assignment: { owner: 'build2', timestamp: '2025-11-04 20:45' } }],
    ['an array of {name, owner, timestamp}', [{ name: 'job_assignment', owner: 'build2', timestamp: '2025-11-04 20:45' }]],
  ])('locks as %s become the canonical lock', async (_shape, legacy) => {
    await writeJson(root, LOCKS, legacy);
    initGitRepo(root);
    const res = await coord(root, 'migrate');
    expect(res.exitCode).toBe(0);
    expect(await readJson(root, LOCKS)).toEqual({
      $schema: '../schemas/locks.schema.json',
      locks: { job_assignment: { locked_by: 'build2', locked_at: '2025-11-04T20:45:00Z', expires_at: '2025-11-04T20:50:00Z', token: expect.stringMatching(/^legacy-/) } },
    });
    expect((await coord(root, 'validate', LOCKS)).exitCode).toBe(0);
  });

  test('every legacy timestamp form becomes ISO-8601 UTC with Z', async () => {
    const forms: [string, string][] = [
      ['2025-11-04 20:45', '2025-11-04T20:45:00Z'],
      ['2025-11-04 20:45:12', '2025-11-04T20:45:12Z'],
      ['2025-11-04T20:45:12', '2025-11-04T20:45:12Z'],
      ['2025-11-04T20:45:12.123456', '2025-11-04T20:45:12Z'],
      ['2025-11-04T20:45:12+02:00', '2025-11-04T18:45:12Z'],
      ['2025-11-04T20:45:12.5Z', '2025-11-04T20:45:12Z'],
    ];
    await writeJson(root, JOBS, {
      $schema: '../schemas/jobs.schema.json',
      jobs: forms.map(([ts], i) => ({ id: `j${i}`, type: 'noop', priority: 1, status: 'queued', created_at: ts })),
    });
    initGitRepo(root);
    expect((await coord(root, 'migrate')).exitCode).toBe(0);
    const jobs = ((await readJson(root, JOBS)) as { jobs: Obj[] }).jobs;
    expect(jobs.map((j) => j.created_at)).toEqual(forms.map(([, canonical]) => canonical));
  });

  test('an invalid file makes migrate exit 3 naming file and pointer, and nothing is written', async () => {
    await writeLegacyFiles(root);
    initGitRepo(root);
    await writeJson(root, 'coordination/locks.json', { locks: { deploy: { locked_by: 'build1', locked_at: 'yesterday', expires_at: '2025-11-04T21:45:00Z', token: 'token-0001' } } });
    git(root, ['commit', '-q', '-a', '-m', 'a bad hand edit']);
    const commits = commitCount(root);
    const before = await fingerprintTree(root);
    for (const args of [['migrate'], ['migrate', '--dry-run']]) {
      const res = await coord(root, ...args);
      expect(res.exitCode).toBe(3);
      // A real run refuses; a dry run reports it (exit 3: no flag fixes it).
      if (!args.includes('--dry-run')) expect(res.stderr).toMatch(/nothing was written/);
      expect(`${res.stdout}${res.stderr}`).toMatch(/must be fixed by hand first/);
      expect(`${res.stdout}${res.stderr}`).toMatch(/coordination\/locks\.json: \/locks\/deploy\/locked_at: .*not a timestamp/);
      expect(await fingerprintTree(root)).toEqual(before);
      expect(commitCount(root)).toBe(commits);
    }
    const json = await runCoordCli(['--repo', root, '--json', 'migrate'], { cwd: root, env: ENV });
    expect(json.exitCode).toBe(3);
    expect(parseSingleJson(json.stdout)).toMatchObject({
      ok: false,
      error: { code: 'E_INVALID', issues: [expect.objectContaining({ file: 'coordination/locks.json', pointer: '/locks/deploy/locked_at' })] },
    });
  });

  test('outside a git repository migrate rewrites the files and commits nothing', async () => {
    await writeLegacyFiles(root);
    const res = await coord(root, 'migrate');
    expect(res.exitCode).toBe(0);
    expect(res.stdout).not.toMatch(/committed/);
    expect((await coord(root, 'validate')).stderr).not.toContain('legacy shape');
  });
});
