/**
 * Hand edits that pass the schema but would be read wrong or silently ignored:
 * - a duplicate key refused by every door (validate, sync --commit, a transaction), with
 *   nothing committed and nothing pushed;
 * - cross-file checks reported as warnings (exit 0): a job type or builder the build config
 *   does not have, a misspelled policy or job-type key;
 * - repository paths that are no git clone, or no folder at all (exit 2).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { escapeRegExp, issueLineRe, PROJECT_ROOT, runCoordCli, runNode } from '../support/cli.js';
import { gitSync, hermeticEnv, makeFleet, type Fleet } from '../support/git-fixture.js';
import { editJson, fingerprintTree, makeCoordTree, makeTempDir, removeTree, writeText } from '../support/tree.js';

const JOBS = 'coordination/jobs.json';
const CONFIG = 'shared/build_config.json';
const TS = '2025-11-04T20:45:00Z';
type Obj = Record<string, unknown>;

const job = (over: Obj = {}): Obj => ({ id: 'job-20251104-204500-build1-0000aaaa', type: 'noop', priority: 5, status: 'queued', created_at: TS, ...over });

/** jobs.json with a hand-added "jobs" list above the existing one (the later wins in JSON.parse). */
const duplicateJobs = (): string => [
  '{', '  "$schema": "../schemas/jobs.schema.json",', '  "paused": null,', '  "grounded": {},',
  `  "jobs": [${JSON.stringify(job())}],`, '  "jobs": []', '}', '',
].join('\n');
const DUPLICATE_LINE = /duplicate key "jobs" \(the first is on line 5\): the later value would silently replace the earlier; merge them into one \(line 6\)/;

describe('a duplicate key is refused by every door', () => {
  let fleet: Fleet;
  beforeAll(async () => { fleet = await makeFleet(2, { clones: ['build1'] }); });
  afterAll(() => fleet.cleanup());

  const originHead = () => gitSync(fleet.origin, ['rev-parse', 'main']);
  const env = () => hermeticEnv() as Record<string, string>;

  test('validate and sync --commit: exit 3 naming the key and both lines; nothing committed or pushed', async () => {
    const c = fleet.clones.build1;
    const head = originHead();
    const localHead = gitSync(c, ['rev-parse', 'HEAD']);
    await writeText(c, JOBS, duplicateJobs());
    const before = await fingerprintTree(c, { exclude: ['.git'] });

    const v = await runCoordCli(['--repo', c, 'validate'], { cwd: c, env: env() });
    expect(v.exitCode).toBe(3);
    expect(v.stdout).toMatch(issueLineRe(JOBS, '/jobs', DUPLICATE_LINE));

    const s = await runCoordCli(['--repo', c, 'sync', '--commit'], { cwd: c, env: env() });
    expect(s.exitCode).toBe(3);
    expect(s.stderr).toMatch(/nothing was committed/);
    expect(s.stderr).toMatch(issueLineRe(JOBS, '/jobs', DUPLICATE_LINE, { indented: true }));

    expect(await fingerprintTree(c, { exclude: ['.git'] })).toEqual(before);
    expect(gitSync(c, ['rev-parse', 'HEAD'])).toBe(localHead);
    expect(originHead()).toBe(head);
    await fs.writeFile(path.join(c, JOBS), gitSync(c, ['show', `HEAD:${JOBS}`]) + '\n');
  });

  test('a transaction refuses a remote jobs.json with a duplicate key and writes nothing', async () => {
    // Someone pushed the bad edit past the hooks (origin here has none).
    const other = path.join(fleet.dir, 'other');
    gitSync(fleet.dir, ['clone', '-q', fleet.origin, other]);
    await writeText(other, JOBS, duplicateJobs());
    gitSync(other, ['commit', '-qam', 'hand edit']);
    gitSync(other, ['push', '-q', 'origin', 'main']);
    const head = originHead();
    const r = await runCoordCli(['--repo', fleet.clones.build1, '--builder', 'build1', 'jobs', 'add', '--type', 'noop'], { cwd: fleet.clones.build1, env: env() });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(DUPLICATE_LINE);
    expect(originHead()).toBe(head);
  });
});

describe('cross-file checks are warnings (exit 0), naming the place and the fix', () => {
  test('unknown job type, grounded unknown builder, misspelled policy and job-type keys', async () => {
    const root = await makeCoordTree({ prefix: 'coord-xcheck-' });
    try {
      await editJson(root, JOBS, (d) => {
        d.jobs = [job(), job({ id: 'job-2', type: 'nosuch' }), job({ id: 'job-3', type: 'nosuch', status: 'completed' })];
        d.grounded = { build9: { by: 'build1', at: TS, reason: 'hand edit' } };
      });
      await editJson<{ policy: Obj; job_types: { noop: Obj } }>(root, CONFIG, (d) => {
        d.policy.heartbeat_intervall_s = 5;
        d.job_types.noop.alowed_builders = ['build1'];
      });
      await editJson(root, 'coordination/schedules.json', (d) => {
        d.schedules = [{ id: 'nightly', cron: '0 2 * * *', job: { type: 'nosuch' } }];
      });
      const before = await fingerprintTree(root);
      const r = await runCoordCli(['--repo', root, 'validate'], { cwd: root });
      expect(await fingerprintTree(root)).toEqual(before);
      expect({ exit: r.exitCode, stderr: r.stderr }).toEqual({ exit: 0, stderr: expect.stringMatching(/0 error\(s\), 5 warning\(s\)/) });
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(5);
      expect(r.stdout).toMatch(issueLineRe(JOBS, '/jobs/1/type', /warning: unknown job type "nosuch" \(shared\/build_config\.json has noop\); no builder will claim it: it will stay queued \(define the type, or cancel the job\) \(line \d+\)/));
      expect(r.stdout).toMatch(issueLineRe(JOBS, '/grounded/build9', /warning: "build9" is not a configured builder \(configured: build1, build2; see shared\/build_config\.json\): this entry grounds nobody; remove it, or configure the builder/));
      expect(r.stdout).toMatch(issueLineRe(CONFIG, '/policy/heartbeat_intervall_s', /warning: unknown policy key heartbeat_intervall_s \(did you mean heartbeat_interval_s\?\); it is ignored/));
      expect(r.stdout).toMatch(issueLineRe(CONFIG, '/job_types/noop/alowed_builders', /warning: unknown job type key alowed_builders \(did you mean allowed_builders\?\)/));
      expect(r.stdout).toMatch(issueLineRe('coordination/schedules.json', '/schedules/0/job/type', /warning: unknown job type "nosuch".*the schedule cannot queue it/));
      // A finished job of a since-removed type is history, not a problem.
      expect(r.stdout).not.toMatch(/\/jobs\/2\//);
    } finally {
      await removeTree(root);
    }
  });
});

describe('decommissioning a builder (third trial: removing build3 from the config stopped the whole fleet)', () => {
  test('finished jobs naming a removed builder are history: no issue; a running one is an error that says what to do', async () => {
    const root = await makeCoordTree({ prefix: 'coord-decommission-' });
    try {
      await editJson(root, JOBS, (d) => {
        d.jobs = [
          job({ id: 'job-done', status: 'completed', assigned_to: 'build2', attempt: 1 }),
          job({ id: 'job-failed', status: 'failed', assigned_to: 'build2', attempt: 1 }),
          job({ id: 'job-blocked', status: 'blocked', assigned_to: 'build2', attempt: 2 }),
        ];
      });
      await editJson<{ builders: Obj }>(root, CONFIG, (d) => { delete d.builders.build2; });
      const before = await fingerprintTree(root);
      const ok = await runCoordCli(['--repo', root, 'validate'], { cwd: root });
      expect({ exit: ok.exitCode, stdout: ok.stdout }).toEqual({ exit: 0, stdout: '' });
      // Minimal hand-written job records are a supported form, not a "legacy shape" (third trial).
      expect(ok.stderr).not.toMatch(/legacy shape/);

      await editJson(root, JOBS, (d) => { (d.jobs as Obj[]).push(job({ id: 'job-live', status: 'running', assigned_to: 'build2', attempt: 1 })); });
      const mid = await fingerprintTree(root);
      const bad = await runCoordCli(['--repo', root, 'validate'], { cwd: root });
      expect(bad.exitCode).toBe(3);
      expect(bad.stdout).toMatch(issueLineRe(JOBS, '/jobs/3/assigned_to', /"build2" is not a configured builder .*; a running job needs a configured builder: if build2 was just removed, put it back until its jobs end, or cancel them \(coord jobs cancel job-live\)/));
      expect(await fingerprintTree(root)).toEqual(mid);
      expect(mid).not.toEqual(before);
    } finally {
      await removeTree(root);
    }
  });
});

describe('repository paths', () => {
  let dir: string;
  let nogit: string;
  beforeAll(async () => {
    dir = await makeTempDir('coord-repo-path-');
    nogit = await makeCoordTree({ prefix: 'coord-nogit-' });
    await writeText(dir, 'file', 'not a folder\n');
  });
  afterAll(async () => { await removeTree(dir); await removeTree(nogit); });

  test.each([
    ['sync --commit', ['sync', '--commit']],
    ['status', ['status']],
    ['validate --staged', ['validate', '--staged']],
  ])('%s in a folder with coordination/ but no .git: exit 2, "not a git clone"', async (_name, args) => {
    const before = await fingerprintTree(nogit);
    const r = await runCoordCli(['--repo', nogit, ...args], { cwd: dir });
    expect(await fingerprintTree(nogit)).toEqual(before);
    expect({ exit: r.exitCode, stdout: r.stdout }).toEqual({ exit: 2, stdout: '' });
    expect(r.stderr).toBe(`coord: error: ${nogit} is not a git clone (no .git): clone the fleet's repository, or coord init in a git repository\n`);
  });

  test('sm in a folder with coordination/ but no .git: exit 2, "not a git clone" (was an internal error with a stack trace)', async () => {
    const before = await fingerprintTree(nogit);
    const r = await runNode([path.join(PROJECT_ROOT, 'bin/sm.js'), '--repo', nogit, '--builder', 'build1', '2', 'hello'], { cwd: dir });
    expect(await fingerprintTree(nogit)).toEqual(before);
    expect({ exit: r.exitCode, stdout: r.stdout }).toEqual({ exit: 2, stdout: '' });
    expect(r.stderr).toBe(`sm: error: ${nogit} is not a git clone (no .git): clone the fleet's repository, or coord init in a git repository\n`);
  });

  test('validate of plain files still works without git', async () => {
    const r = await runCoordCli(['--repo', nogit, 'validate'], { cwd: dir });
    expect(r.exitCode).toBe(0);
  });

  test('--repo naming a file: "is not a directory", exit 2', async () => {
    const file = path.join(dir, 'file');
    const before = await fingerprintTree(dir);
    const r = await runCoordCli(['--repo', file, 'validate'], { cwd: dir });
    expect(await fingerprintTree(dir)).toEqual(before);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^coord: error: repository ${escapeRegExp(file)} is not a directory \\(from --repo\\)`));
  });
});
