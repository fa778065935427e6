/**
 * The pure rules behind the checks of a hand edit (`coord sync --commit`, `coord validate
 * --staged`, the pre-commit and pre-receive hooks), table-driven:
 * - the job state machine with advice, and merges judged against every parent;
 * - the credential scanner on JSON-escaped text (a password in `\"…\"` was missed);
 * - where a finding or a merge conflict is, for the person.
 */
import { jobFileTransitionIssues, jobTransitionIssues } from '../../lib/jobs/transitions.js';
import { scanSecrets, unescapeInPlace } from '../../lib/messages/secrets.js';
import { conflictIssues, pointerAt } from '../../lib/commands/sync-edits.js';

const J = 'coordination/jobs.json';
const job = (status: string, extra: Record<string, unknown> = {}) => ({ id: 'job-1', status, attempt: 1, assigned_to: null, ...extra });
const doc = (...jobs: Record<string, unknown>[]) => ({ jobs });
// Assembled at run time so this file holds no credential-shaped literal for other scanners.
const j = (...parts: string[]) => parts.join('');

describe('job transitions', () => {
  test.each([
    ['completed', 'queued', /status may not change from completed to queued: a completed job is history .*queue a new job instead \(coord jobs add\); put "status": "completed" back/],
    ['queued', 'completed', /status may not change from queued to completed: only the builder running a job reports its end .*coord jobs cancel job-1; put "status": "queued" back/],
    ['failed', 'running', /status may not change from failed to running: a job runs only when a builder claims it; to run it again use coord jobs retry job-1/],
    ['cancelled', 'completed', /status may not change from cancelled to completed: .*coord jobs retry job-1/],
  ])('%s → %s is refused with what to do', (from, to, reason) => {
    const issues = jobTransitionIssues(J, [job(from)], [job(to, to === 'running' ? { attempt: 2, assigned_to: 'build1' } : {})]);
    expect(issues).toEqual([{ file: J, pointer: '/jobs/0/status', reason: expect.stringMatching(reason), severity: 'error' }]);
  });

  test.each([
    ['failed', 'queued'], ['blocked', 'queued'], ['running', 'completed'], ['queued', 'cancelled'],
    // `coord jobs retry` requeues a cancelled job (lib/jobs/model.ts retryJob): the hook must let it through.
    ['cancelled', 'queued'],
  ])('%s → %s is allowed', (from, to) => {
    expect(jobTransitionIssues(J, [job(from)], [job(to)])).toEqual([]);
  });

  test('a running job whose holder changed within its attempt names the holder to put back', () => {
    const issues = jobTransitionIssues(J, [job('running', { assigned_to: 'build1' })], [job('running', { assigned_to: 'build2' })]);
    expect(issues.map((i) => [i.pointer, i.reason])).toEqual([['/jobs/0/assigned_to', expect.stringMatching(/changed holder from build1 to build2 within attempt 1: .*put "build1" back/)]]);
  });

  test('a merge is judged against every parent: a job the other side ran is no forbidden jump', () => {
    const ours = doc(job('queued', { attempt: 0 }));
    const theirs = doc(job('completed'));
    const merged = doc(job('completed'));
    expect(jobFileTransitionIssues(J, [ours], merged)).toHaveLength(1);
    expect(jobFileTransitionIssues(J, [ours, theirs], merged)).toEqual([]);
    // Forbidden from both sides: refused.
    expect(jobFileTransitionIssues(J, [doc(job('completed')), theirs], doc(job('queued')))).toHaveLength(1);
    // Nothing to compare with.
    expect(jobFileTransitionIssues(J, [null], merged)).toEqual([]);
  });
});

describe('credentials in JSON-escaped text', () => {
  test('unescapeInPlace keeps every offset', () => {
    const text = String.raw`{"body": "a \"b\" c\nd\\e\/f \u0041"}`;
    const out = unescapeInPlace(text);
    expect(out).toHaveLength(text.length);
    expect(out).toBe(String.raw`{"body": "a  "b " c  d \e /f \u0041"}`);
  });

  test.each([
    ['a password in escaped quotes', JSON.stringify({ body: j('db pass', 'word = "hunter2super', 'secretvalue"') }, null, 2), 'password assignment'],
    ['a password after an escaped newline', JSON.stringify({ body: j('hi\npass', 'word=hunter2abc') }, null, 2), 'password assignment'],
  ])('%s inside a JSON file is found, on its line', async (_name, text, kind) => {
    const found = await scanSecrets({ f: text });
    expect(found).toEqual([expect.objectContaining({ kind, line: 2 })]);
  });

  test('ordinary escaped text still passes', async () => {
    const text = JSON.stringify({ body: 'built "main" at 3f2a9c1\nsee C:\\builds\\out for the log' }, null, 2);
    expect(await scanSecrets({ f: text })).toEqual([]);
  });
});

describe('where a problem is', () => {
  test('pointerAt names the JSON value at a line and column', () => {
    const text = JSON.stringify({ messages: [{ id: 'm1', body: 'x' }, { id: 'm2', body: 'secret here' }] }, null, 2);
    const line = text.split('\n').findIndex((l) => l.includes('secret here')) + 1;
    const column = text.split('\n')[line - 1].indexOf('secret') + 1;
    expect(pointerAt(text, line, column)).toBe('/messages/1/body');
  });

  test('a merge conflict names the remote value, found by record id, and never says "kept ours"', () => {
    const merged = { jobs: [{ id: 'a', priority: 1 }, { id: 'b', priority: 7 }] };
    const theirs = { jobs: [{ id: 'b', priority: 2 }, { id: 'a', priority: 1 }] };
    const [c] = conflictIssues(J, merged, theirs, [{ pointer: '/jobs/1/priority', reason: 'job "b": field "priority" changed differently on both sides (ours 7, theirs 2); kept ours' }]);
    expect(c).toEqual({ file: J, pointer: '/jobs/1/priority', key: 'jobs/[id=b]/priority', theirs: 2, reason: 'job "b": field "priority" changed differently on both sides (ours 7, theirs 2); the remote has 2' });
  });
});
