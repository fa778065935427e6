/**
 * The pure parts behind the compatibility scripts and the layout migration (issue 11), no
 * I/O: the severity order of read_messages.sh, marking as an unconfigured builder, the claim
 * and completion by hand of job_queue.sh get-next/complete, and the survey of an old
 * layout (derived files, heartbeat branches, builders and senders in the data).
 */
import { DEFAULT_POLICY } from '../../lib/config/policy.js';
import { assignmentLockHolder, decideManualClaim, decideManualCompletion } from '../../lib/jobs/manual.js';
import { makeJob, type JobRecord } from '../../lib/jobs/model.js';
import { bySeverity, selectMessages } from '../../lib/messages/inbox.js';
import type { Message } from '../../lib/messages/model.js';
import { planMark } from '../../lib/messages/mutations.js';
import { builderEntryFrom, extendBuildConfig, findNames, heartbeatBranches } from '../../lib/migration/legacy-layout.js';
import type { BuildConfigFile, JobsFile, LocksFile } from '../../lib/schemas/types.gen.js';
import type { TxState } from '../../lib/tx/transaction.js';
import { formatTimestamp } from '../../lib/util/time.js';

const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);
const policy = { ...DEFAULT_POLICY };
const config: BuildConfigFile = {
  $schema: '../schemas/build_config.schema.json',
  builders: { build1: { arch: 'x86_64', labels: ['deb'], max_concurrent_jobs: 1 }, build2: { arch: 'aarch64', max_concurrent_jobs: 2 } },
  job_types: { build: { command: ['true'], timeout_s: 60 }, arm: { command: ['true'], timeout_s: 60, allowed_builders: ['build2'] } },
};

function msg(id: string, type: Message['type'], minutesAgo: number, fields: Partial<Message> = {}): Message {
  return {
    id, from: 'build1', to: 'build2', type, priority: 'normal', subject: id, body: id, timestamp: formatTimestamp(NOW - minutesAgo * 60_000),
    ack_required: false, read_by: [], acked_by: [], in_reply_to: null, tags: [], ...fields,
  };
}

describe('read_messages.sh order: --order severity', () => {
  const list = [msg('i-old', 'info', 50), msg('e-new', 'error', 5), msg('w', 'warning', 40), msg('r', 'request', 30), msg('e-old', 'error', 45), msg('i-new', 'info', 1)];

  test('errors, warnings, requests, info; oldest first within a type', () => {
    expect(selectMessages(list, ['build1', 'build2'], { who: 'build2', includeRead: false, order: 'severity' }).map((m) => m.id))
      .toEqual(['e-old', 'e-new', 'w', 'r', 'i-old', 'i-new']);
    expect([...list].sort(bySeverity).map((m) => m.type)).toEqual(['error', 'error', 'warning', 'request', 'info', 'info']);
  });

  test('the default stays oldest first; --limit keeps the newest N before ordering', () => {
    expect(selectMessages(list, ['build1', 'build2'], { who: 'build2', includeRead: false }).map((m) => m.id))
      .toEqual(['i-old', 'e-old', 'w', 'r', 'e-new', 'i-new']);
    expect(selectMessages(list, ['build1', 'build2'], { who: 'build2', includeRead: false, order: 'severity', limit: 2 }).map((m) => m.id))
      .toEqual(['e-new', 'i-new']);
  });
});

describe('mark_messages_read.sh buildN: the builder must be configured', () => {
  const state = (messages: Message[]): TxState => ({
    files: new Map([['coordination/messages.json', { $schema: '../schemas/messages.schema.json', messages }]]), config, policy, base: 'c0ffee',
  });

  test('an unconfigured builder is refused (usage), even with nothing to mark', () => {
    const d = planMark({ ids: [], who: 'build9', ack: false, allUnread: true })(state([msg('m', 'info', 1, { to: 'all' })]));
    expect(d).toMatchObject({ kind: 'refuse', refusal: { code: 'E_USAGE', message: expect.stringMatching(/^build9 is not a configured builder/) } });
  });

  test('a broadcast marked by build2 stays unread for the others', () => {
    const d = planMark({ ids: [], who: 'build2', ack: false, allUnread: true })(state([msg('m', 'info', 1, { from: 'alice', to: 'all' })]));
    expect(d.kind).toBe('commit');
    if (d.kind === 'commit') expect(d.result.messages[0].read_by).toEqual(['build2']);
  });
});

describe('job_queue.sh get-next: decideManualClaim', () => {
  const job = (id: string, priority: number, type = 'build', extra: Partial<JobRecord> = {}): JobRecord => ({ ...makeJob({ type, priority }, id, 'build1', NOW - 60_000, policy), ...extra });
  const jobs = (list: JobRecord[], extra: Partial<JobsFile> = {}): JobsFile => ({ $schema: '../schemas/jobs.schema.json', paused: null, grounded: {}, jobs: list, ...extra });
  const lock = (by: string, expiresIn: number): LocksFile => ({
    $schema: '../schemas/locks.schema.json',
    locks: { job_assignment: { locked_by: by, locked_at: formatTimestamp(NOW), expires_at: formatTimestamp(NOW + expiresIn), token: 't' } },
  });

  test.each<[string, string, JobsFile, LocksFile | null, string | RegExp]>([
    ['the highest priority job it may run', 'build1', jobs([job('a', 5), job('b', 2), job('c', 1, 'arm')]), null, 'b'],
    ['a type allowed only elsewhere is skipped', 'build2', jobs([job('c', 1, 'arm'), job('b', 2)]), null, 'c'],
    ['nothing queued', 'build1', jobs([job('a', 5, 'build', { status: 'completed' })]), null, /the queue holds no queued job/],
    ['queue paused', 'build1', jobs([job('a', 5)], { paused: { by: 'alice', at: formatTimestamp(NOW) } }), null, /queue paused by alice/],
    ['grounded', 'build1', jobs([job('a', 5)], { grounded: { build1: { by: 'build1', at: formatTimestamp(NOW), reason: 'x', until: null } } }), null, /build1 is grounded/],
    ['at its concurrency limit', 'build1', jobs([job('r', 1, 'build', { status: 'running', assigned_to: 'build1', attempt: 1 }), job('a', 5)]), null, /build1 runs 1 of 1 allowed jobs/],
    ['job_assignment lock held by another', 'build1', jobs([job('a', 5)]), lock('build2', 60_000), /job_assignment lock held by build2/],
    ['an expired lock does not stop it', 'build1', jobs([job('a', 5)]), lock('build2', -3_600_000), 'a'],
    ['only jobs of unknown types', 'build1', jobs([job('x', 1, 'nope')]), null, /none of the 1 queued job\(s\) may run on build1 now \(first: x: unknown job type "nope"/],
    ['an unconfigured builder', 'build7', jobs([job('a', 5)]), null, /build7 is not a configured builder/],
  ])('%s', (_name, builder, doc, locks, expected) => {
    const d = decideManualClaim(builder, doc, locks, config, policy, NOW);
    if (typeof expected === 'string') {
      expect(d.job).toMatchObject({ id: expected, status: 'running', assigned_to: builder, attempt: 1, history: [expect.objectContaining({ builder, attempt: 1 })] });
      if (d.job) expect('doc' in d && d.doc.jobs.find((j) => j.id === expected)?.status).toBe('running');
    } else {
      expect(d.job).toBeNull();
      if (d.job === null) expect(d.reason).toMatch(expected);
    }
  });

  test('assignmentLockHolder honours the clock-skew allowance', () => {
    expect(assignmentLockHolder(lock('build2', -10_000), NOW, 30)).toBe('build2');
    expect(assignmentLockHolder(lock('build2', -40_000), NOW, 30)).toBeNull();
    expect(assignmentLockHolder(null, NOW, 30)).toBeNull();
  });
});

describe('job_queue.sh complete: decideManualCompletion', () => {
  const running = (): JobsFile => {
    const d = decideManualClaim('build1', { $schema: '../schemas/jobs.schema.json', paused: null, grounded: {}, jobs: [makeJob({ type: 'build' }, 'j', 'build1', NOW - 120_000, policy)] }, null, config, policy, NOW - 90_000);
    if (d.job === null) throw new Error(d.reason);
    return (d as { doc: JobsFile }).doc;
  };

  test('completed: exit code 0, duration since the claim by default', () => {
    const d = decideManualCompletion('build1', running(), { id: 'j', outcome: 'completed' }, NOW);
    expect(d).toMatchObject({ ok: true, job: { status: 'completed', exit_code: 0, history: [expect.objectContaining({ status: 'completed', duration_seconds: 90 })] } });
  });

  test('failed with attempts left: back in the queue, failed_on records the builder', () => {
    const d = decideManualCompletion('build1', running(), { id: 'j', outcome: 'failed', durationS: 7 }, NOW);
    expect(d).toMatchObject({ ok: true, job: { status: 'queued', assigned_to: null, failed_on: ['build1'], error: 'reported failed by build1 (coord jobs complete)' } });
  });

  test('another builder, or an unknown job, is refused', () => {
    expect(decideManualCompletion('build2', running(), { id: 'j', outcome: 'completed' }, NOW)).toMatchObject({ ok: false, code: 'E_INVALID_STATE', message: expect.stringMatching(/is running on build1, not running on build2/) });
    expect(decideManualCompletion('build1', running(), { id: 'nope', outcome: 'completed' }, NOW)).toMatchObject({ ok: false, code: 'E_NOT_FOUND' });
  });
});

describe('the old layout survey', () => {
  test('heartbeat branch names of the upstream scripts, and nothing else', () => {
    expect(heartbeatBranches(['main', 'heartbeat/build1', 'heartbeats/build12', 'heartbeat-build3', 'build4-heartbeat', 'heartbeat', 'feature/heartbeat-ui', 'build1']).map((b) => b.path))
      .toEqual(['build4-heartbeat', 'heartbeat', 'heartbeat-build3', 'heartbeat/build1', 'heartbeats/build12']);
  });

  test('builders and non-builder names in folders, jobs, messages and locks (legacy shapes as they are)', () => {
    const names = findNames(['build1', 'build10', 'scripts', 'shared'], {
      jobs: { jobs: [{ assigned_to: 'build3', failed_on: ['build5'], history: [{ builder: 'build6' }] }, 'junk'] },
      messages: { messages: [{ from: 'architect', to: 'all' }, { from: 'build2', to: ['build7', 'ops-team'] }, { from: 'Build8', to: 'build1' }] },
      locks: [{ name: 'job_assignment', owner: 'build4' }],
    });
    expect(names).toEqual({
      builders: ['build1', 'build2', 'build3', 'build4', 'build5', 'build6', 'build7', 'build8', 'build10'],
      senders: ['architect'], recipients: ['ops-team'],
    });
    expect(findNames([], { jobs: null, messages: null, locks: { locks: { deploy: { locked_by: 'build9' } } } }).builders).toEqual(['build9']);
    expect(findNames([], { jobs: null, messages: null, locks: { deploy: { owner: 'build2' } } }).builders).toEqual(['build2']);
  });

  test('extendBuildConfig adds builders and trusted senders, keeps site fields, and is a no-op when nothing is new', () => {
    const cfg = { builders: { build1: { arch: 'aarch64' } }, trust: { senders: ['alice'] }, site: { keep: true } };
    const entry = builderEntryFrom(null, cfg, 'x86_64');
    expect(entry).toEqual({ arch: 'aarch64', labels: [], max_concurrent_jobs: 1, max_cpu_percent: 90, max_memory_percent: 90 });
    expect(builderEntryFrom({ capabilities: { arch: 'riscv64', labels: ['deb'] } }, cfg, 'x86_64')).toMatchObject({ arch: 'riscv64', labels: ['deb'] });
    const out = extendBuildConfig(cfg, ['build3'], ['alice', 'architect'], () => entry);
    expect(out).toEqual({ builders: { build1: { arch: 'aarch64' }, build3: entry }, trust: { senders: ['alice', 'architect'] }, site: { keep: true } });
    expect(extendBuildConfig(cfg, ['build1'], ['alice'], () => entry)).toBe(cfg);
  });
});
