/**
 * The demo's pure parts: the plan, the verdict on jobs and artifacts, the live view, and
 * the chaos run's history checker — table-driven, no processes.
 */
import { judgeJobs, type FileFacts, type QueuedJob } from '../../lib/demo/summary.js';
import { planJobs } from '../../lib/demo/plan.js';
import { progressLine, queueLine, renderFleet } from '../../lib/demo/live-view.js';
import { HistoryChecker, checkFinalJobs, checkMessages } from '../../lib/chaos/invariants.js';
import type { JobRecord } from '../../lib/jobs/model.js';

const SHA = 'a'.repeat(40);
const src = { commits: [{ sha: SHA, short: 'aaaaaaa', subject: 'head' }, { sha: 'b'.repeat(40), short: 'bbbbbbb', subject: 'older' }] };

test('planJobs: a build per commit in priority order, the test, extra smoke jobs, the agent\'s job', () => {
  const plan = planJobs(src, { extraJobs: 2, suites: ['test/util/time.test.ts'] });
  expect(plan.map((p) => [p.label, p.via, p.input.priority])).toEqual([
    ['build @ aaaaaaa', 'operator', 1], ['build @ bbbbbbb', 'operator', 2], ['test @ aaaaaaa', 'operator', 2],
    ['smoke #1', 'operator', 5], ['smoke #2', 'operator', 5], ['smoke (agent)', 'agent', 4],
  ]);
  expect(plan[0].artifact).toBe(`build-coord-${SHA.slice(0, 12)}.tgz`);
  expect(planJobs(src, { extraJobs: 0, suites: [] }).some((p) => p.input.type === 'test')).toBe(false);
});

function job(over: Partial<JobRecord>): JobRecord {
  return {
    id: 'job-1', type: 'build', priority: 1, description: '', branch: null, commit: SHA, params: {}, requires: {}, status: 'completed', assigned_to: 'build2',
    attempt: 1, max_attempts: 3, lease_expires_at: null, cancel_requested: false, not_before: null, created_at: '2026-11-30T12:00:00Z', created_by: 'operator',
    started_at: null, completed_at: null, exit_code: 0, error: null, failed_on: [],
    history: [{ attempt: 1, builder: 'build2', claimed_at: '2026-11-30T12:00:01Z', ended_at: '2026-11-30T12:00:09Z', status: 'completed', exit_code: 0, duration_seconds: 8, error: null }],
    artifacts: [{ name: `build-coord-${SHA.slice(0, 12)}.tgz`, size: 10, sha256: 'c'.repeat(64) }], log: null, ...over,
  };
}

describe('judgeJobs', () => {
  const queued: QueuedJob[] = [{ id: 'job-1', plan: planJobs(src, { extraJobs: 0, suites: [] })[0] }];
  const name = `build-coord-${SHA.slice(0, 12)}.tgz`;
  const manifest = [{ job_id: 'job-1', attempt: 1, builder: 'build2', name, path: '/b2/art.tgz', size: 10, sha256: 'c'.repeat(64), created_at: '2026-11-30T12:00:09Z' }];
  const facts = (f: Partial<FileFacts>) => new Map([['/b2/art.tgz', { exists: true, size: 10, sha256: 'c'.repeat(64), ...f }]]);
  test.each([
    ['a verified artifact', job({}), facts({}), true, null],
    ['the file changed on the builder', job({}), facts({ sha256: 'd'.repeat(64) }), false, /sha256 on disk d+ ≠ recorded c+/],
    ['the file is gone', job({}), facts({ exists: false }), false, /file missing on build2/],
    ['a failed job', job({ status: 'failed', exit_code: 2 }), facts({}), false, /ended failed, expected completed/],
  ])('%s', (_what, j, f, ok, problem) => {
    const [o] = judgeJobs(queued, [j], manifest, f);
    expect(o.ok).toBe(ok);
    if (problem) expect(o.problems.join('\n')).toMatch(problem);
    expect(o.builder).toBe('build2');
  });
  test('a job missing from the queue', () => {
    expect(judgeJobs(queued, [], manifest, facts({}))[0].problems).toEqual(['job job-1 is not in coordination/jobs.json']);
  });
});

test('the live view: one row per builder with its job, the queue, the newest commits', () => {
  const now = Date.parse('2026-11-30T12:00:20Z');
  const running = job({ status: 'running', started_at: '2026-11-30T12:00:10Z', assigned_to: 'build2' });
  const v = { at: now, fresh: true, warning: null, commit: 'x', mainCommits: 12, recent: ['coord(build2): job.claim job-1 attempt 1'], jobs: [running, job({ id: 'job-2', status: 'queued' })],
    beats: [{ builder: 'build1', sequence: 3, state: 'idle', currentJob: null, ageMs: 800 }, { builder: 'build2', sequence: 4, state: 'building', currentJob: 'job-1', ageMs: 100 }] };
  const labels = new Map([['job-1', 'build @ aaaaaaa']]);
  const lines = renderFleet(v, labels, now - 20_000);
  expect(lines[0]).toBe('20.0s  main: 12 commits');
  expect(lines[3]).toMatch(/^ {2}build2 +0\.1s +4 +building +build @ aaaaaaa +10\.0s$/);
  expect(lines).toContain('  queue: 1 queued · 1 running');
  expect(progressLine(v, labels, now - 20_000)).toBe('[20.0s] 1 queued · 1 running — build2: build @ aaaaaaa');
  expect(queueLine([])).toBe('empty');
});

describe('chaos invariants', () => {
  const enc = (jobs: unknown[]) => new Map([['coordination/jobs.json', Buffer.from(JSON.stringify({ $schema: '../schemas/jobs.schema.json', jobs }))]]);
  const base = { id: 'job-1', type: 'noop', priority: 5, created_at: '2026-11-30T12:00:00Z' };
  const h = (attempt: number, builder: string, status: string) => ({ attempt, builder, claimed_at: '2026-11-30T12:00:01Z', status });
  test('a completion from the lease holder is fine; one after the lease was lost is not', () => {
    const c = new HistoryChecker();
    c.add('a1', 'job.add', 'operator', enc([{ ...base, status: 'queued' }]));
    c.add('a2', 'job.claim', 'build1', enc([{ ...base, status: 'running', assigned_to: 'build1', attempt: 1, history: [h(1, 'build1', 'running')] }]));
    c.add('a3', 'job.expire', 'build2', enc([{ ...base, status: 'queued', attempt: 1, history: [h(1, 'build1', 'lease_lost')] }]));
    expect(c.violations).toEqual([]);
    c.add('a4', 'job.complete', 'build1', enc([{ ...base, status: 'completed', assigned_to: 'build1', attempt: 1, history: [h(1, 'build1', 'completed')] }]));
    expect(c.violations.map((v) => v.invariant)).toEqual(expect.arrayContaining(['lost-lease', 'state-machine']));
  });
  test('a cancel requested, then the job claimed again: a lost cancel', () => {
    const c = new HistoryChecker();
    c.add('b1', 'job.claim', 'build1', enc([{ ...base, status: 'running', assigned_to: 'build1', attempt: 1 }]));
    c.add('b2', 'job.cancel', 'operator', enc([{ ...base, status: 'running', assigned_to: 'build1', attempt: 1, cancel_requested: true }]));
    c.add('b3', 'job.expire', 'build2', enc([{ ...base, status: 'queued', attempt: 1 }]));
    c.add('b4', 'job.claim', 'build2', enc([{ ...base, status: 'running', assigned_to: 'build2', attempt: 2 }]));
    expect(c.violations.map((v) => v.invariant)).toEqual(['cancel']);
  });
  test('an invalid file on main is a validate violation', () => {
    const c = new HistoryChecker();
    c.add('c1', null, 'agent', enc([{ ...base, status: 'sleeping' }]));
    expect(c.violations[0]?.invariant).toBe('validate');
  });
  test('final state and messages', () => {
    expect(checkFinalJobs([{ id: 'a', status: 'running', attempt: 2, assigned_to: 'build1' }], ['a', 'b']).map((v) => v.detail)).toEqual(['b is missing from jobs.json', 'a is running (attempt 2 on build1)']);
    const m = checkMessages([{ id: 'm1', body: 'x tok1' }, { id: 'm2', body: 'tok2' }, { id: 'm3', body: 'tok2' }], [
      { token: 'tok1', from: 'build1', ok: true, id: 'm1' }, { token: 'tok2', from: 'build1', ok: true, id: 'm2' }, { token: 'tok3', from: 'build2', ok: false, id: null },
    ]);
    expect(m.violations.map((v) => v.detail)).toEqual(['message m2 from build1 (tok2) is present 2 time(s) by text, 1 by id']);
  });
});
