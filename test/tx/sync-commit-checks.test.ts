/**
 * `coord sync --commit` findings of the third trial, each reproduced with real git (bare
 * origin, one clone per builder) and the real command line:
 * - A: a credential added by hand to messages.json was pushed (no scan at all), and a
 *   password in JSON-escaped quotes (`\"…\"`) passed every scanner;
 * - B: hand edits breaking the job state machine (completed → queued, queued → completed,
 *   a running job's holder changed) passed every client-side check;
 * - C: an operator could commit another builder's build<N>/status.json;
 * - D: "kept ours" for a conflict that committed nothing; a no-op edit left pending forever
 *   with no word; "diverged; run git pull" in the middle of the merge git pull started.
 * Every refusal asserts the exit code, the message, and that nothing changed (origin head,
 * the edited file).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- jobs.json and --json documents are read field by field */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gitSync, makeFleet, originJson, ROOT, useFleet, type Fleet } from '../support/git-fixture.js';
import { parseSingleJson, runNode } from '../support/cli.js';
import { claimAs, completeAs, coord, originHead, queueJob, runJobAs } from '../support/operator.js';

const JOBS = 'coordination/jobs.json';
const MESSAGES = 'coordination/messages.json';
const SM_BIN = path.join(ROOT, 'bin/sm.js');
// Assembled at run time so this file holds no credential-shaped literal for other scanners.
const j = (...parts: string[]) => parts.join('');
const AWS_BODY = j('AKIA', 'IOSFODNN7EXAMPLE aws_secret_', 'access_key=wJalrXUtnFEMI/K7MDENG/', 'bPxRfiCYEXAMPLEKEY');
const PASSWORD_BODY = j('db pass', 'word = "hunter2super', 'secretvalue"');

const fx = useFleet(2);

const read = (clone: string, rel: string) => readFileSync(path.join(clone, rel), 'utf8');
const write = (clone: string, rel: string, text: string) => writeFileSync(path.join(clone, rel), text);
const readJobs = (clone: string) => JSON.parse(read(clone, JOBS)) as { jobs: any[] } & Record<string, unknown>;
const writeJobs = (clone: string, doc: unknown) => write(clone, JOBS, JSON.stringify(doc, null, 2) + '\n');
/** Edits job `id` in the clone's jobs.json. */
function editJob(clone: string, id: string, change: (job: any) => void): void {
  const doc = readJobs(clone);
  change(doc.jobs.find((x) => x.id === id));
  writeJobs(clone, doc);
}
const originJob = (id: string): any => (originJson(fx.fleet.origin, JOBS) as { jobs: any[] }).jobs.find((x) => x.id === id);
async function synced(...clones: string[]): Promise<void> {
  for (const c of clones) expect((await coord(c, ['sync'])).exitCode).toBe(0);
}
/** Drops every working-tree edit of the clone (test clean-up between scenarios). */
function drop(clone: string): void {
  gitSync(clone, ['reset', '-q', '--hard', 'HEAD']);
}

/** Runs `coord sync --commit` expecting a refusal that changes nothing; returns its output. */
async function refused(clone: string, file: string, exit: number, extra: string[] = [], env?: Record<string, string>) {
  const head = originHead(fx.fleet.origin);
  const before = read(clone, file);
  const r = await coord(clone, ['sync', '--commit', ...extra], env ? { env } : {});
  expect({ exit: r.exitCode, stderr: r.stderr }).toEqual({ exit, stderr: expect.any(String) });
  expect(originHead(fx.fleet.origin)).toBe(head);
  expect(read(clone, file)).toBe(before);
  return r;
}

describe('A: credentials in a hand edit', () => {
  test('sync --commit of a fake AWS key in messages.json is refused (exit 3, like the hook), naming file, pointer and kind, never the key', async () => {
    expect((await runNode([SM_BIN, '2', 'hello build2'], { cwd: fx.b1 })).exitCode).toBe(0);
    await synced(fx.b1);
    const doc = JSON.parse(read(fx.b1, MESSAGES));
    doc.messages[0].body = AWS_BODY;
    write(fx.b1, MESSAGES, JSON.stringify(doc, null, 2) + '\n');

    const r = await refused(fx.b1, MESSAGES, 3);
    expect(r.stderr).toContain('your edits look like they carry credentials');
    expect(r.stderr).toContain('nothing was committed');
    expect(r.stderr).toContain('COORD_ALLOW_SECRET=1 coord sync --commit');
    expect(r.stderr).toMatch(/coordination\/messages\.json: \/messages\/0\/body: looks like a credential \(.+, column \d+\) \(line \d+\)/);
    expect(r.stderr).not.toContain('wJalrXUtnFEMI');

    const json = await coord(fx.b1, ['--json', 'sync', '--commit']);
    expect(json.exitCode).toBe(3);
    const err = parseSingleJson(json.stdout).error as any;
    expect(err.code).toBe('E_INVALID');
    expect(err.issues[0]).toMatchObject({ file: MESSAGES, pointer: '/messages/0/body', severity: 'error' });

    // The documented way past it, as for the hook.
    const ok = await coord(fx.b1, ['sync', '--commit'], { env: { COORD_ALLOW_SECRET: '1' } });
    expect(ok.exitCode).toBe(0);
    expect((originJson(fx.fleet.origin, MESSAGES) as any).messages[0].body).toBe(AWS_BODY);
  });

  test('a password in JSON-escaped quotes (\\"…\\") is found in messages.json by sync --commit', async () => {
    await synced(fx.b1);
    const doc = JSON.parse(read(fx.b1, MESSAGES));
    doc.messages[0].body = PASSWORD_BODY;
    write(fx.b1, MESSAGES, JSON.stringify(doc, null, 2) + '\n');
    expect(read(fx.b1, MESSAGES)).toContain('\\"hunter2');
    const r = await refused(fx.b1, MESSAGES, 3);
    expect(r.stderr).toMatch(/\/messages\/0\/body: looks like a credential \(password assignment/);
    expect(r.stderr).not.toContain('hunter2');
    drop(fx.b1);
  });

  test('the pre-commit hook refuses the JSON-escaped password on a plain git commit', async () => {
    expect((await coord(fx.b1, ['hook', 'install'])).exitCode).toBe(0);
    const doc = JSON.parse(read(fx.b1, MESSAGES));
    doc.messages[0].body = PASSWORD_BODY;
    write(fx.b1, MESSAGES, JSON.stringify(doc, null, 2) + '\n');
    const head = gitSync(fx.b1, ['rev-parse', 'HEAD']);
    gitSync(fx.b1, ['add', MESSAGES]);
    let failed = false;
    try {
      gitSync(fx.b1, ['commit', '-q', '-m', 'body']);
    } catch (e) {
      failed = true;
      expect(String((e as { stderr?: unknown }).stderr)).toMatch(/coordination\/messages\.json line \d+, column \d+: password assignment/);
    }
    expect(failed).toBe(true);
    expect(gitSync(fx.b1, ['rev-parse', 'HEAD'])).toBe(head);
    gitSync(fx.b1, ['reset', '-q']);
    drop(fx.b1);
  });
});

describe('B: the job state machine on the client side', () => {
  let done: string, queued: string, running: string;
  beforeAll(async () => {
    done = await queueJob(fx.b1, 'build1');
    queued = await queueJob(fx.b1, 'build1');
    running = await queueJob(fx.b1, 'build1');
    await runJobAs(fx.b1, 'build1', done, 'completed');
    await claimAs(fx.b1, 'build1', running);
    await synced(fx.b1);
  });

  test('a completed job put back to queued: sync --commit refuses (exit 3) with file, pointer, reason and what to do', async () => {
    editJob(fx.b1, done, (x) => { x.status = 'queued'; });
    const r = await refused(fx.b1, JOBS, 3);
    expect(r.stderr).toContain('your edits break the job state machine');
    expect(r.stderr).toMatch(new RegExp(`coordination/jobs\\.json: /jobs/\\d+/status: job ${done}: status may not change from completed to queued: .*queue a new job instead \\(coord jobs add\\); put "status": "completed" back`));
    const json = parseSingleJson((await coord(fx.b1, ['--json', 'sync', '--commit'])).stdout) as any;
    expect(json.error.issues).toEqual([expect.objectContaining({ file: JOBS, pointer: expect.stringMatching(/^\/jobs\/\d+\/status$/), severity: 'error' })]);
  });

  test('validate --staged (and so the pre-commit hook) refuses the same edit against HEAD, with the same line', async () => {
    gitSync(fx.b1, ['add', JOBS]);
    const r = await coord(fx.b1, ['validate', '--staged']);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toContain(`job ${done}: status may not change from completed to queued`);
    // Judged alone, the file is valid: plain validate still passes.
    expect((await coord(fx.b1, ['validate'])).exitCode).toBe(0);
    gitSync(fx.b1, ['reset', '-q']);
    drop(fx.b1);
  });

  test('a queued job set to completed by hand is refused, pointing to coord jobs cancel', async () => {
    editJob(fx.b1, queued, (x) => { x.status = 'completed'; });
    const r = await refused(fx.b1, JOBS, 3);
    expect(r.stderr).toContain(`job ${queued}: status may not change from queued to completed: only the builder running a job reports its end`);
    expect(r.stderr).toContain(`coord jobs cancel ${queued}`);
    drop(fx.b1);
  });

  test("a running job's assigned_to changed by hand is refused", async () => {
    editJob(fx.b1, running, (x) => { x.assigned_to = 'build2'; });
    const r = await refused(fx.b1, JOBS, 3);
    expect(r.stderr).toMatch(new RegExp(`/jobs/\\d+/assigned_to: job ${running}: running job changed holder from build1 to build2 within attempt 1: .*put "build1" back`));
    drop(fx.b1);
  });

  test('a local commit made past the hook (--no-verify) with a forbidden change: coord sync pushes nothing', async () => {
    editJob(fx.b1, done, (x) => { x.status = 'queued'; });
    gitSync(fx.b1, ['commit', '-q', '--no-verify', '-am', 'requeue by hand']);
    const head = originHead(fx.fleet.origin);
    const r = await coord(fx.b1, ['sync']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('nothing was pushed: git reset --soft origin/main');
    expect(r.stderr).toContain(`job ${done}: status may not change from completed to queued`);
    expect(originHead(fx.fleet.origin)).toBe(head);
    gitSync(fx.b1, ['reset', '-q', '--hard', 'origin/main']);
  });

  test('merged with the remote, an edit that breaks the state machine is refused too (the job moved on meanwhile)', async () => {
    const j2 = await queueJob(fx.b2, 'build2');
    const attempt = await claimAs(fx.b2, 'build2', j2);
    await synced(fx.b1);
    // build1's operator cancels the running job by hand; meanwhile build2 completes it.
    editJob(fx.b1, j2, (x) => { x.status = 'cancelled'; });
    await completeAs(fx.b2, 'build2', j2, attempt, 'completed');
    const c = await refused(fx.b1, JOBS, 4);
    expect(c.stderr).toContain('(the remote has "completed")');
    // Keeping "cancelled" after seeing the conflict: the state machine, judged against the
    // remote's version as its pre-receive hook would, still refuses it.
    const r = await refused(fx.b1, JOBS, 3);
    expect(r.stderr).toContain('merged with the remote, your edits would break the job state machine');
    expect(r.stderr).toContain(`job ${j2}: status may not change from completed to cancelled`);
    expect(originJob(j2).status).toBe('completed');
    drop(fx.b1);
    await synced(fx.b1);
  });
});

describe('C: another builder\'s files', () => {
  test("sync --commit refuses an edit of build2/status.json from build1's clone (exit 2); build2 may commit its own", async () => {
    const id = await queueJob(fx.b1, 'build1');
    await synced(fx.b1, fx.b2);
    // A valid local commit waits too: a refused edit pushes nothing at all.
    editJob(fx.b1, id, (x) => { x.priority = 4; });
    gitSync(fx.b1, ['commit', '-q', '--no-verify', '-am', 'priority 4']);
    const status = JSON.parse(read(fx.b1, 'build2/status.json'));
    write(fx.b1, 'build2/status.json', JSON.stringify({ ...status, consecutive_failures: 3 }, null, 2) + '\n');
    const r = await refused(fx.b1, 'build2/status.json', 2);
    expect(originJob(id).priority).toBe(5);
    expect(r.stderr).toContain("build2/status.json belongs to build2's daemon; drop the edit with git checkout -- build2/status.json");
    expect(r.stderr).toContain('nothing was committed');
    // A person's clone (no builder identity) is refused the same way.
    renameSync(path.join(fx.b1, '.build_server_id'), path.join(fx.fleet.dir, 'b1-id'));
    try {
      const person = await refused(fx.b1, 'build2/status.json', 2, [], { USER: 'alice', COORD_ETC_BUILD_SERVER_ID: path.join(fx.fleet.dir, 'none') });
      expect(person.stderr).toContain("build2/status.json belongs to build2's daemon");
    } finally {
      renameSync(path.join(fx.fleet.dir, 'b1-id'), path.join(fx.b1, '.build_server_id'));
    }
    gitSync(fx.b1, ['reset', '-q', '--hard', 'origin/main']);

    const own = JSON.parse(read(fx.b2, 'build2/status.json'));
    write(fx.b2, 'build2/status.json', JSON.stringify({ ...own, consecutive_failures: 3 }, null, 2) + '\n');
    expect((await coord(fx.b2, ['sync', '--commit'])).exitCode).toBe(0);
    expect((originJson(fx.fleet.origin, 'build2/status.json') as any).consecutive_failures).toBe(3);
  });
});

describe('D: errors of sync --commit', () => {
  test('a conflict says nothing was committed, names the remote value (issues[] in --json); running again commits the value in the file', async () => {
    const id = await queueJob(fx.b1, 'build1', { type: 'noop', priority: 5 });
    await synced(fx.b1, fx.b2);
    editJob(fx.b2, id, (x) => { x.priority = 2; });
    expect((await coord(fx.b2, ['sync', '--commit'])).exitCode).toBe(0);

    editJob(fx.b1, id, (x) => { x.priority = 7; });
    const r = await refused(fx.b1, JOBS, 4);
    expect(r.stderr).not.toContain('kept ours');
    expect(r.stderr).toContain('nothing was committed: set these fields to the value you want (the remote has 2), then run coord sync --commit again');
    expect(r.stderr).toMatch(/coordination\/jobs\.json: \/jobs\/\d+\/priority: job "job-.*": field "priority" changed differently on both sides \(ours 7, theirs 2\); the remote has 2/);

    // The remote moves again: a new conflict, shown again (issues in --json).
    editJob(fx.b2, id, (x) => { x.priority = 3; });
    expect((await coord(fx.b2, ['sync', '--commit'])).exitCode).toBe(0);
    const head = originHead(fx.fleet.origin);
    const json = await coord(fx.b1, ['--json', 'sync', '--commit']);
    expect(json.exitCode).toBe(4);
    const err = parseSingleJson(json.stdout).error as any;
    expect(err.message).toContain('(the remote has 3)');
    expect(err.issues).toEqual([{ file: JOBS, pointer: expect.stringMatching(/^\/jobs\/\d+\/priority$/), reason: expect.stringContaining('the remote has 3'), severity: 'error' }]);
    expect(originHead(fx.fleet.origin)).toBe(head);

    // Seen and decided: the value in the file (7) is committed.
    const ok = await coord(fx.b1, ['sync', '--commit']);
    expect(ok.exitCode).toBe(0);
    expect(originJob(id).priority).toBe(7);
    await synced(fx.b2);
  });

  test('an edit that changes no record (one line; locks [] for {}) is a warning, not "local changes" forever', async () => {
    await synced(fx.b1);
    const head = originHead(fx.fleet.origin);
    write(fx.b1, JOBS, JSON.stringify(readJobs(fx.b1)) + '\n');
    const locks = JSON.parse(read(fx.b1, 'coordination/locks.json'));
    write(fx.b1, 'coordination/locks.json', JSON.stringify({ ...locks, locks: [] }, null, 2) + '\n');
    const r = await coord(fx.b1, ['sync', '--commit']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('warning: coordination/jobs.json: your edit changes no record; nothing to commit (git checkout -- coordination/jobs.json to drop it)');
    expect(r.stderr).toContain('warning: coordination/locks.json: your edit changes no record');
    const json = parseSingleJson((await coord(fx.b1, ['--json', 'sync', '--commit'])).stdout);
    expect(json.ok).toBe(true);
    expect(json.warnings).toContain('coordination/jobs.json: your edit changes no record; nothing to commit (git checkout -- coordination/jobs.json to drop it)');
    expect(json.committed_files).toEqual([]);
    expect(originHead(fx.fleet.origin)).toBe(head);
    drop(fx.b1);
  });

  test('in the middle of a git pull that stopped on a conflict, coord sync says how to finish the merge', async () => {
    const id = await queueJob(fx.b1, 'build1', { type: 'noop', priority: 5 });
    await synced(fx.b1, fx.b2);
    editJob(fx.b1, id, (x) => { x.priority = 7; });
    gitSync(fx.b1, ['commit', '-q', '--no-verify', '-am', 'priority 7']);
    editJob(fx.b2, id, (x) => { x.priority = 2; });
    expect((await coord(fx.b2, ['sync', '--commit'])).exitCode).toBe(0);
    // No merge driver registered in this clone: git's text merge stops with UU.
    expect(() => gitSync(fx.b1, ['pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main'])).toThrow();
    expect(gitSync(fx.b1, ['status', '--porcelain', '--', JOBS])).toBe(`UU ${JOBS}`);
    const head = originHead(fx.fleet.origin);
    for (const args of [['sync'], ['sync', '--commit']]) {
      const r = await coord(fx.b1, args);
      expect(r.exitCode).toBe(4);
      expect(r.stderr).toContain(`a merge is in progress: check ${JOBS}, git add them and git commit, then coord sync`);
      expect(r.stderr).not.toContain('diverged');
    }
    expect(originHead(fx.fleet.origin)).toBe(head);
    gitSync(fx.b1, ['merge', '--abort']);
    gitSync(fx.b1, ['reset', '-q', '--hard', 'origin/main']);
  });
});

describe("B: the self-hosted remote's pre-receive hook, the same rules", () => {
  let f2: Fleet;
  let c1: string, c2: string;
  beforeAll(async () => {
    f2 = await makeFleet(2);
    c1 = f2.clones.build1!;
    c2 = f2.clones.build2!;
    expect((await coord(c1, ['remote', 'setup', f2.origin])).exitCode).toBe(0);
  });
  afterAll(() => f2?.cleanup());
  const push = (clone: string) => {
    try {
      gitSync(clone, ['push', '-q', 'origin', 'main']);
      return { ok: true, stderr: '' };
    } catch (e) {
      return { ok: false, stderr: String((e as { stderr?: unknown }).stderr) };
    }
  };

  test('a completed job requeued by hand and pushed past the client hooks: refused with advice that works (validate --staged shows it)', async () => {
    const done = await queueJob(c1, 'build1');
    await runJobAs(c1, 'build1', done, 'completed');
    expect((await coord(c1, ['sync'])).exitCode).toBe(0);
    editJob(c1, done, (x) => { x.status = 'queued'; });
    gitSync(c1, ['commit', '-q', '--no-verify', '-am', 'requeue by hand']);
    const head = originHead(f2.origin);
    const r = push(c1);
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain(`job ${done}: status may not change from completed to queued`);
    expect(r.stderr).toContain('coord: push refused; the remote is unchanged');
    expect(r.stderr).toContain('git reset --soft origin/main (your changes stay, staged), correct the files until coord validate --staged passes');
    expect(r.stderr).not.toContain('fix the files (coord validate)');
    expect(originHead(f2.origin)).toBe(head);
    // The advice, followed: the same line locally.
    gitSync(c1, ['reset', '-q', '--soft', 'origin/main']);
    const v = await coord(c1, ['validate', '--staged']);
    expect(v.exitCode).toBe(3);
    expect(v.stdout).toContain(`job ${done}: status may not change from completed to queued`);
    gitSync(c1, ['reset', '-q', '--hard', 'origin/main']);
  });

  test('a git pull merge commit whose other side ran a job meanwhile is not taken for a forbidden jump', async () => {
    const mine = await queueJob(c1, 'build1', { type: 'noop', priority: 5 });
    const theirs = await queueJob(c1, 'build1');
    expect((await coord(c1, ['sync'])).exitCode).toBe(0);
    expect((await coord(c1, ['merge-driver', 'install'])).exitCode).toBe(0);
    editJob(c1, mine, (x) => { x.priority = 3; });
    gitSync(c1, ['commit', '-q', '--no-verify', '-am', 'priority by hand']);
    await runJobAs(c2, 'build2', theirs, 'completed');
    gitSync(c1, ['pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main']);
    // Against its first parent (the local commit) the merge moves `theirs` queued → completed.
    expect(push(c1)).toEqual({ ok: true, stderr: '' });
    const origin = originJson(f2.origin, JOBS) as { jobs: any[] };
    expect(origin.jobs.find((x) => x.id === mine).priority).toBe(3);
    expect(origin.jobs.find((x) => x.id === theirs).status).toBe('completed');
  });
});
