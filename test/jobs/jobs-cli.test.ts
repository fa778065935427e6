/**
 * `coord jobs …` against a bare origin and two clones with the real command line (issue 6).
 * build2's daemon is played by the test through the real transitions (claim, log tail,
 * complete), so the commands are checked against what a builder really commits.
 */
import { spawn } from 'node:child_process';
import { COORD_BIN } from '../support/cli.js';
import { makeFleet, originJson, type Fleet } from '../support/git-fixture.js';
import type { NewJobInput } from '../../lib/jobs/model.js';
import { claimAs, completeAs, coord, coordJson, expectReadmeShape, logAs, originHead, queueJob, runJobAs } from '../support/operator.js';

const JOBS = 'coordination/jobs.json';
let fleet: Fleet;
let b1: string, b2: string;
type Job = { id: string; status: string; failed_on: string[]; priority: number; params: Record<string, string>; requires: Record<string, unknown>; not_before: string | null; max_attempts: number };
const jobOnOrigin = (id: string) => (originJson(fleet.origin, JOBS) as { jobs: Job[] }).jobs.find((j) => j.id === id);

/** Set-up: a noop job queued by build1 (in-process; `jobs add` itself is tested above). */
const add = (input: Partial<NewJobInput> = {}) => queueJob(b1, 'build1', { type: 'noop', ...input });

beforeAll(async () => {
  fleet = await makeFleet(2);
  b1 = fleet.clones.build1!;
  b2 = fleet.clones.build2!;
});
afterAll(() => fleet?.cleanup());

test('add prints the new id; the job is on the origin with every option parsed', async () => {
  const r = await coord(b1, ['jobs', 'add', '--type', 'noop', '--priority', '2', '--branch', 'release/2.3', '--commit', 'abc1234',
    '--param', 'TARGET=release', '--param', 'OPTS=a=b', '--requires', 'arch=x86_64', '--label', 'deb',
    '--not-before', '2030-01-01', '--max-attempts', '5', '--description', 'a test job']);
  expect(r.exitCode).toBe(0);
  const id = r.stdout.trim();
  expect(id).toMatch(/^job-\d{8}-\d{6}-build1-[0-9a-f]+$/);
  expect(r.stderr).toMatch(/no configured builder can run it: requires label\(s\) deb/);
  expect(jobOnOrigin(id)).toMatchObject({
    status: 'queued', priority: 2, params: { TARGET: 'release', OPTS: 'a=b' }, requires: { arch: 'x86_64', labels: ['deb'] },
    not_before: '2030-01-01T00:00:00Z', max_attempts: 5,
  });
  const j = await coordJson(b2, ['jobs', 'add', '--type', 'noop']);
  expect(j.r.exitCode).toBe(0);
  expect(j.doc.job).toMatchObject({ type: 'noop', priority: 5, status: 'queued', created_by: 'build2' });
  expectReadmeShape('coord jobs add', j.doc);
  // Both cancelled again so later tests start from an empty queue.
  expect((await coord(b1, ['jobs', 'cancel', id, j.doc.job.id])).exitCode).toBe(0);
});

test('list / show: queue position, estimated wait from recent durations, why it is still queued', async () => {
  const done = await add();
  await runJobAs(b2, 'build2', done, 'completed'); // a noop took 3 s: the estimate has a basis
  const first = await add({ priority: 1 });
  const second = await add({ priority: 3 });
  const list = await coordJson(b2, ['jobs', 'list', '--status', 'queued,completed']);
  expect(list.r.exitCode).toBe(0);
  expectReadmeShape('coord jobs list', list.doc);
  const ids = list.doc.jobs.map((x: { id: string }) => x.id);
  expect(ids.slice(0, 2)).toEqual([first, second]); // queue order first, finished after
  expect(list.doc.jobs[0]).toMatchObject({ queue_position: 1, estimated_wait_s: 0 });
  expect(list.doc.jobs[1]).toMatchObject({ queue_position: 2, estimated_wait_s: 2 }); // 3 s ahead / 2 slots, rounded
  expect(list.doc.jobs.find((x: { id: string }) => x.id === done)).toMatchObject({ status: 'completed', builder: 'build2', queue_position: null });
  const human = await coord(b2, ['jobs', 'list', '--limit', '1']);
  expect(human.stdout).toContain(first);
  expect(human.stdout).not.toContain(second);
  expect(human.stderr).toMatch(/more \(--limit/);

  expect((await coord(b1, ['queue', 'pause', '--reason', 'mirror down'])).exitCode).toBe(0);
  const show = await coordJson(b2, ['jobs', 'show', second]);
  expectReadmeShape('coord jobs show', show.doc);
  expect(show.doc.queue).toMatchObject({ position: 2 });
  expect(show.doc.why_queued.summary).toMatch(/the queue is paused by build1 .*\(mirror down\)/);
  expect(show.doc.why_queued.builders.map((b: { builder: string }) => b.builder)).toEqual(['build1', 'build2']);
  expect(show.doc.why_queued.builders[0].reason).toMatch(/queue paused by build1/);
  const text = await coord(b2, ['jobs', 'show', second]);
  expect(text.stdout).toMatch(/Why is it still queued\?/);
  expect((await coord(b1, ['queue', 'resume'])).exitCode).toBe(0);
  const shown = await coordJson(b2, ['jobs', 'show', done]);
  expect(shown.doc).toMatchObject({ why_queued: null, job: { status: 'completed', history: [{ builder: 'build2', status: 'completed' }] } });
  expect(shown.doc.log).toMatchObject({ path: `build2/logs/${done}.log`, committed: true });
  expect((await coord(b1, ['jobs', 'cancel', first, second])).exitCode).toBe(0);
});

test('cancel: queued at once, running by request; a finished job is refused with exit 3 and nothing written', async () => {
  const queued = await add();
  const running = await add();
  await claimAs(b2, 'build2', running);
  const r = await coordJson(b1, ['jobs', 'cancel', queued, running]);
  expect(r.r.exitCode).toBe(0);
  expectReadmeShape('coord jobs cancel', r.doc);
  expect(r.doc.jobs).toEqual([
    { id: queued, was: 'queued', result: 'cancelled' },
    { id: running, was: 'running', result: 'cancel_requested' },
  ]);
  expect(jobOnOrigin(queued)?.status).toBe('cancelled');
  expect(jobOnOrigin(running)).toMatchObject({ status: 'running', cancel_requested: true });

  const before = originHead(fleet.origin);
  const again = await coord(b1, ['jobs', 'cancel', queued]);
  expect(again.exitCode).toBe(3);
  expect(again.stderr).toMatch(new RegExp(`job ${queued} is cancelled already; only queued or running jobs can be cancelled`));
  // All or nothing: a finished id among good ones leaves the good ones untouched.
  const fresh = await add();
  const mid = originHead(fleet.origin);
  expect((await coord(b1, ['jobs', 'cancel', fresh, queued])).exitCode).toBe(3);
  expect(originHead(fleet.origin)).toBe(mid);
  expect(jobOnOrigin(fresh)?.status).toBe('queued');
  expect(before).not.toBe(mid);
  await completeAs(b2, 'build2', running, 1, 'completed');
  expect((await coord(b1, ['jobs', 'cancel', fresh])).exitCode).toBe(0);
});

test('retry: a failed job goes back to the queue with failed_on cleared; --failed selects them all', async () => {
  const id = await add({ max_attempts: 1 });
  await runJobAs(b2, 'build2', id, 'failed');
  expect(jobOnOrigin(id)).toMatchObject({ status: 'failed', failed_on: ['build2'] });
  const r = await coordJson(b1, ['jobs', 'retry', id]);
  expect(r.r.exitCode).toBe(0);
  expectReadmeShape('coord jobs retry', r.doc);
  expect(jobOnOrigin(id)).toMatchObject({ status: 'queued', failed_on: [] });
  // Retrying a queued job is refused (3); --failed with nothing failed is a no-op.
  const before = originHead(fleet.origin);
  expect((await coord(b1, ['jobs', 'retry', id])).exitCode).toBe(3);
  const none = await coord(b1, ['jobs', 'retry', '--failed']);
  expect(none.exitCode).toBe(0);
  expect(none.stdout).toMatch(/nothing to retry/);
  expect(originHead(fleet.origin)).toBe(before);
  expect((await coord(b1, ['jobs', 'retry'])).exitCode).toBe(2);
  // The retry renewed the attempt budget (max_attempts 1 + policy 3): a second job fails for good.
  expect(jobOnOrigin(id)?.max_attempts).toBe(4);
  const other = await add({ max_attempts: 1 });
  await runJobAs(b2, 'build2', other, 'failed');
  const all = await coordJson(b1, ['jobs', 'retry', '--failed']);
  expect(all.doc.jobs.map((j: { id: string }) => j.id)).toEqual([other]);
  expect((await coord(b1, ['jobs', 'cancel', id, other])).exitCode).toBe(0);
});

test('logs: the committed tail; --follow prints new output until the job ends', async () => {
  const id = await add();
  const none = await coordJson(b1, ['jobs', 'logs', id]);
  expect(none.doc).toMatchObject({ ok: true, status: 'queued', log: null });
  const attempt = await claimAs(b2, 'build2', id);
  await logAs(b2, 'build2', id, attempt, 'step 1\nstep 2\n');
  const now = await coord(b1, ['jobs', 'logs', id]);
  expect(now.exitCode).toBe(0);
  expect(now.stdout).toBe('step 1\nstep 2\n');

  const child = spawn(process.execPath, [COORD_BIN, 'jobs', 'logs', id, '--follow', '--interval', '1'], { cwd: b1, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  for (let i = 0; i < 50 && !out.includes('step 2'); i++) await new Promise((r) => setTimeout(r, 100));
  await logAs(b2, 'build2', id, attempt, 'step 1\nstep 2\nstep 3\n');
  await completeAs(b2, 'build2', id, attempt, 'completed', 'step 1\nstep 2\nstep 3\ndone\n');
  expect(await exited).toBe(0);
  expect(out).toBe('step 1\nstep 2\nstep 3\ndone\n');

  const j = await coordJson(b1, ['jobs', 'logs', id]);
  expect(j.doc).toMatchObject({ status: 'completed', builder: 'build2', log: 'step 1\nstep 2\nstep 3\ndone\n' });
  expectReadmeShape('coord jobs logs', j.doc);
});

test('wait: exit 0 when all completed, 3 when one failed, 4 on timeout; one JSON document each time', async () => {
  const ok = await add();
  const waiting = coordJson(b1, ['jobs', 'wait', ok, '--interval', '1']);
  await new Promise((r) => setTimeout(r, 500));
  await runJobAs(b2, 'build2', ok, 'completed');
  const w = await waiting;
  expect(w.r.exitCode).toBe(0);
  expect(w.doc.jobs).toEqual([expect.objectContaining({ id: ok, status: 'completed', builder: 'build2', exit_code: 0 })]);
  expectReadmeShape('coord jobs wait', w.doc);

  const bad = await add({ max_attempts: 1 });
  await runJobAs(b2, 'build2', bad, 'failed');
  const f = await coordJson(b1, ['jobs', 'wait', ok, bad]);
  expect(f.r.exitCode).toBe(3);
  expect(f.doc.error).toMatchObject({ code: 'E_JOB_FAILED', exit_code: 3 });
  expect(f.doc.error.details.jobs.map((x: { status: string }) => x.status)).toEqual(['completed', 'failed']);
  const human = await coord(b1, ['jobs', 'wait', bad]);
  expect(human.exitCode).toBe(3);
  expect(human.stdout).toMatch(new RegExp(`${bad} failed on build2`));

  const t = await coordJson(b1, ['jobs', 'add', '--type', 'noop', '--wait', '--timeout', '1', '--interval', '1']);
  expect(t.r.exitCode).toBe(4);
  expect(t.doc.error).toMatchObject({ code: 'E_TIMEOUT', exit_code: 4 });
  expect(t.doc.error.details.jobs[0].status).toBe('queued');
  expect((await coord(b1, ['jobs', 'cancel', t.doc.error.details.jobs[0].id])).exitCode).toBe(0);
});

describe('bad input: exit code, one JSON document with the code, origin main unchanged', () => {
  let done: string;
  beforeAll(async () => {
    done = await add();
    await runJobAs(b2, 'build2', done, 'completed');
  });
  const unknown = 'job-20200101-000000-build1-00000000';
  const cases: { name: string; args: () => string[]; code: number; message: RegExp }[] = [
    { name: 'jobs show of an unknown id', args: () => ['jobs', 'show', unknown], code: 5, message: /no job job-20200101/ },
    { name: 'jobs cancel of an unknown id', args: () => ['jobs', 'cancel', unknown], code: 5, message: /no job job-20200101/ },
    { name: 'jobs retry of an unknown id', args: () => ['jobs', 'retry', unknown], code: 5, message: /no job job-20200101/ },
    { name: 'jobs logs of an unknown id', args: () => ['jobs', 'logs', unknown], code: 5, message: /no job job-20200101/ },
    { name: 'jobs wait of an unknown id', args: () => ['jobs', 'wait', unknown], code: 5, message: /no job job-20200101/ },
    { name: 'cancel of a completed job', args: () => ['jobs', 'cancel', done], code: 3, message: /is completed already; only queued or running jobs can be cancelled/ },
    { name: 'priority 0', args: () => ['jobs', 'add', '--type', 'noop', '--priority', '0'], code: 2, message: /--priority 0: must be from 1 to 10/ },
    { name: 'priority 11', args: () => ['jobs', 'add', '--type', 'noop', '--priority', '11'], code: 2, message: /--priority 11: must be from 1 to 10/ },
    { name: 'priority high', args: () => ['jobs', 'add', '--type', 'noop', '--priority', 'high'], code: 2, message: /--priority "high": give a whole number from 1 to 10/ },
    { name: '--param without =', args: () => ['jobs', 'add', '--type', 'noop', '--param', 'TARGET'], code: 2, message: /--param "TARGET": write NAME=VALUE/ },
    { name: '--param with a name that is not an environment variable name', args: () => ['jobs', 'add', '--type', 'noop', '--param', '1BAD-NAME=x'], code: 2, message: /"1BAD-NAME" is not a valid environment variable name/ },
    { name: '--not-before yesterday-ish', args: () => ['jobs', 'add', '--type', 'noop', '--not-before', 'yesterday-ish'], code: 2, message: /--not-before "yesterday-ish": not a time/ },
    { name: 'an unknown job type (the known ones listed)', args: () => ['jobs', 'add', '--type', 'nope'], code: 2, message: /unknown job type "nope"; shared\/build_config.json defines: noop/ },
    { name: 'no --type', args: () => ['jobs', 'add'], code: 2, message: /type/ },
    { name: 'a bad --commit', args: () => ['jobs', 'add', '--type', 'noop', '--commit', 'xyz'], code: 2, message: /--commit "xyz"/ },
    { name: '--max-attempts 0', args: () => ['jobs', 'add', '--type', 'noop', '--max-attempts', '0'], code: 2, message: /--max-attempts 0: must be from 1 to 100/ },
    { name: 'an unknown --status', args: () => ['jobs', 'list', '--status', 'done'], code: 2, message: /--status "done": one of queued, running/ },
    { name: '--limit 0', args: () => ['jobs', 'list', '--limit', '0'], code: 2, message: /--limit 0: must be from 1/ },
    { name: 'a --timeout that is not a duration', args: () => ['jobs', 'wait', done, '--timeout', 'later'], code: 2, message: /--timeout "later"/ },
  ];
  test.each(cases)('$name → exit $code', async ({ args, code, message }) => {
    const before = originHead(fleet.origin);
    const r = await coordJson(b1, args());
    expect(r.r.exitCode).toBe(code);
    expect(r.doc).toMatchObject({ ok: false, error: { exit_code: code } });
    expect(r.doc.error.message).toMatch(message);
    expect(originHead(fleet.origin)).toBe(before);
  });

  test('without --json the error goes to stderr, stdout stays empty', async () => {
    const before = originHead(fleet.origin);
    const r = await coord(b1, ['jobs', 'add', '--type', 'noop', '--priority', 'high']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^coord: error: --priority "high"/);
    expect(originHead(fleet.origin)).toBe(before);
  });
});
