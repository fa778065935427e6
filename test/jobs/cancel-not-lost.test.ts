/**
 * Bug (found by `npm run chaos`, seed 12): a job whose cancel was requested while it ran
 * was requeued — and run twice more — when its holder's lease expired (the holder had
 * crashed before it could stop the job), because expireLease reset `cancel_requested`.
 * Likewise a daemon shutting down requeued such a job with the flag still set, where no
 * builder ever claims it and nothing ends it. A requested cancel must end the job cancelled.
 */
import { DEFAULT_POLICY } from '../../lib/config/policy.js';
import { addJob, cancelJob, claimJob, expireLease, makeJob, pickNextJob, requeueJob } from '../../lib/jobs/model.js';
import type { JobsFile } from '../../lib/schemas/types.gen.js';

const T = Date.parse('2026-11-30T12:00:00Z');
const empty: JobsFile = { $schema: '../schemas/jobs.schema.json', paused: null, grounded: {}, jobs: [] };

function runningWithCancelRequested(): JobsFile {
  let doc = (addJob(empty, makeJob({ type: 'noop' }, 'job-1', 'operator', T, { ...DEFAULT_POLICY })) as { doc: JobsFile }).doc;
  doc = (claimJob(doc, 'job-1', 'build1', T + 1000, 300) as { doc: JobsFile }).doc;
  return (cancelJob(doc, 'job-1', T + 2000) as { doc: JobsFile }).doc;
}

test('expireLease of a job with a cancel requested ends it cancelled, not queued (cancel lost after a crash)', () => {
  const t = expireLease(runningWithCancelRequested(), 'job-1', 1, T + 400_000, 'build2');
  if (!t.ok) throw new Error(t.refusal.message);
  expect(t.job.status).toBe('cancelled');
  expect(t.job.cancel_requested).toBe(false);
  expect(t.job.completed_at).not.toBeNull();
  expect(t.job.history.map((h) => h.status)).toEqual(['lease_lost']);
});

test('requeueJob (daemon shutdown) of a job with a cancel requested cancels it instead of leaving it queued for ever', () => {
  const t = requeueJob(runningWithCancelRequested(), { id: 'job-1', builder: 'build1', attempt: 1 }, T + 3000, 'requeued: build1 shut down');
  if (!t.ok) throw new Error(t.refusal.message);
  expect(t.job.status).toBe('cancelled');
  const facts = { builder: 'build2', arch: 'x86_64', labels: [], grounded: false, running: 0, maxConcurrent: 1, cpuPercent: null, memoryPercent: null, maxCpuPercent: 100, maxMemoryPercent: 100 };
  expect(pickNextJob(t.doc, facts, { builders: {}, job_types: { noop: { command: ['true'] } } } as never, null, T + 4000)).toBeNull();
});

test('without a cancel request a lost lease still requeues (attempts left)', () => {
  let doc = (addJob(empty, makeJob({ type: 'noop' }, 'job-1', 'operator', T, { ...DEFAULT_POLICY })) as { doc: JobsFile }).doc;
  doc = (claimJob(doc, 'job-1', 'build1', T + 1000, 300) as { doc: JobsFile }).doc;
  const t = expireLease(doc, 'job-1', 1, T + 400_000, 'build2');
  expect(t.ok && (t.job).status).toBe('queued');
});
