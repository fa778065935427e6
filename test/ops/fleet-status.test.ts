/**
 * fleetStatus (coord status, and the dashboard's source), "why still queued", queue figures
 * and log following — pure, on hand-built fleets.
 */
import { DEFAULT_POLICY } from '../../lib/config/policy.js';
import type { SeenValue } from '../../lib/heartbeat/observe.js';
import { makeJob, type JobRecord } from '../../lib/jobs/model.js';
import type { LockJudge } from '../../lib/locks/model.js';
import { fleetStatus, type FleetInput, type HeartbeatSighting } from '../../lib/ops/fleet-status.js';
import { explainQueued } from '../../lib/ops/job-explain.js';
import { newLogOutput } from '../../lib/ops/log-follow.js';
import { listingOrder, queuePlaces, typeDurations } from '../../lib/ops/queue-stats.js';
import type { BuildConfigFile, HeartbeatFile, StatusFile } from '../../lib/schemas/types.gen.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const config: BuildConfigFile = {
  $schema: '../schemas/build_config.schema.json',
  builders: { build1: { arch: 'x86_64', labels: ['deb'], max_concurrent_jobs: 1 }, build2: { arch: 'aarch64', labels: [], max_concurrent_jobs: 2 } },
  job_types: { build: { command: ['make'] }, deb: { command: ['dpkg-buildpackage'], allowed_builders: ['build1'] } },
};
const hb = (builder: string, over: Partial<HeartbeatFile> = {}): HeartbeatFile => ({
  $schema: '../schemas/heartbeat.schema.json', builder, timestamp: iso(NOW), sequence: 1, state: 'idle', interval_s: 60,
  system: { cpu_percent: 50, memory_used_mb: 1024, memory_total_mb: 4096, disk_free_mb: 2000 }, ...over,
});
const sighting = (builder: string, ageS: number, over: Partial<HeartbeatFile> = {}, source: SeenValue['source'] = 'observed'): HeartbeatSighting => ({
  heartbeat: hb(builder, over), source: 'ref', seen: { value: `c-${builder}`, first_seen: NOW - ageS * 1000, source },
});
const job = (id: string, over: Partial<JobRecord> = {}): JobRecord => ({ ...makeJob({ type: 'build' }, id, 'alice', NOW - 3_600_000, DEFAULT_POLICY), ...over });
const judge: LockJudge = () => ({ expired: false, remainingMs: 60_000, ttlS: 300, source: 'observed', lastChange: NOW, graceS: 0 });

function input(over: Partial<FleetInput> = {}): FleetInput {
  return {
    now: NOW, config, policy: { ...DEFAULT_POLICY },
    jobs: { $schema: '../schemas/jobs.schema.json', paused: null, grounded: {}, jobs: [] },
    locks: { $schema: '../schemas/locks.schema.json', locks: {} },
    messages: { $schema: '../schemas/messages.schema.json', messages: [] },
    statuses: {}, heartbeats: { build1: sighting('build1', 10), build2: sighting('build2', 10) },
    lockJudge: judge, ...over,
  };
}

describe('fleetStatus: health by the observer\'s elapsed time', () => {
  test.each([
    { name: 'beat 10 s ago', hb: sighting('build1', 10), health: 'healthy', reason: null },
    { name: 'beat 4 min ago (3 intervals of 60 s passed)', hb: sighting('build1', 240), health: 'stale', reason: /no heartbeat for 4m \(stale after 3m\)/ },
    { name: 'beat 11 min ago', hb: sighting('build1', 660), health: 'offline', reason: /no heartbeat for 11m \(offline after 10m\)/ },
    { name: 'clean shutdown', hb: sighting('build1', 5, { state: 'offline' }), health: 'offline', reason: /shut down cleanly/ },
    { name: 'estimated from its clock', hb: sighting('build1', 240, {}, 'timestamp'), health: 'stale', reason: /estimated from its own clock/ },
    { name: 'its own shorter interval', hb: sighting('build1', 40, { interval_s: 10 }), health: 'stale', reason: /stale after 30s/ },
    { name: 'no heartbeat at all', hb: null, health: 'offline', reason: /no heartbeat ever seen/ },
  ])('$name → $health', ({ hb: h, health, reason }) => {
    const s = fleetStatus(input({ heartbeats: { build1: h, build2: sighting('build2', 1) } }));
    expect(s.builders[0]).toMatchObject({ builder: 'build1', health });
    if (reason) expect(s.builders[0].reason).toMatch(reason);
    else expect(s.builders[0].reason).toBeNull();
  });

  test('grounded (until not passed) and degraded apply to a live builder; an expired grounding does not', () => {
    const status = { $schema: '', builder: 'build2', state: 'idle', updated_at: iso(NOW), degraded: { since: iso(NOW), reason: 'remote unreachable' } } as StatusFile;
    const s = fleetStatus(input({
      jobs: { $schema: '', paused: null, jobs: [], grounded: { build1: { by: 'alice', at: iso(NOW), reason: 'disk', until: iso(NOW + 60_000) } } },
      statuses: { build2: status },
    }));
    expect(s.builders.map((b) => [b.builder, b.health, b.reason])).toEqual([['build1', 'grounded', 'grounded by alice: disk (until 2026-11-30T12:01:00Z)'], ['build2', 'degraded', 'remote unreachable']]);
    const past = fleetStatus(input({ jobs: { $schema: '', paused: null, jobs: [], grounded: { build1: { by: 'alice', at: iso(NOW - 7200_000), reason: 'disk', until: iso(NOW - 1000) } } } }));
    expect(past.builders[0]).toMatchObject({ health: 'healthy', grounded: null });
    // An offline builder is offline, grounded or not.
    const off = fleetStatus(input({ heartbeats: { build1: sighting('build1', 900) }, jobs: { $schema: '', paused: null, jobs: [], grounded: { build1: { by: 'a', at: iso(NOW), reason: 'x' } } } }));
    expect(off.builders[0]).toMatchObject({ health: 'offline', grounded: { reason: 'x' } });
  });

  test('current job and elapsed time, figures, jobs today, unread, queue totals, extra builders', () => {
    const running = job('job-r', { status: 'running', assigned_to: 'build2', attempt: 1, started_at: iso(NOW - 125_000) });
    const today = job('job-t', {
      status: 'completed', history: [
        { attempt: 1, builder: 'build2', claimed_at: iso(NOW - 9000_000), ended_at: iso(NOW - 8000_000), status: 'failed' },
        { attempt: 2, builder: 'build2', claimed_at: iso(NOW - 7000_000), ended_at: iso(NOW - 6000_000), status: 'completed', duration_seconds: 60 },
        { attempt: 3, builder: 'build1', claimed_at: iso(NOW - 90_000_000), ended_at: iso(NOW - 86_400_000 - 1000), status: 'completed' },
      ],
    });
    const s = fleetStatus(input({
      jobs: { $schema: '', paused: { by: 'alice', at: iso(NOW), reason: 'x' }, grounded: {}, jobs: [running, today, job('job-q')] },
      messages: { $schema: '', messages: [
        { id: 'm1', from: 'build1', to: 'all', type: 'info', priority: 'normal', subject: 's', body: 'b', timestamp: iso(NOW), read_by: [], acked_by: [] },
        { id: 'm2', from: 'alice', to: ['build1', 'build2'], type: 'info', priority: 'normal', subject: 's', body: 'b', timestamp: iso(NOW), read_by: ['build2'], acked_by: [] },
      ] },
      heartbeats: { build1: sighting('build1', 1), build2: sighting('build2', 1), build7: sighting('build7', 1) },
    }));
    const b2 = s.builders.find((b) => b.builder === 'build2')!;
    expect(b2).toMatchObject({
      current_job: { id: 'job-r', type: 'build', attempt: 1, elapsed_s: 125 }, running_jobs: 1, jobs_today: { completed: 1, failed: 1 },
      system: { cpu_percent: 50, memory_percent: 25, memory_used_mb: 1024, memory_total_mb: 4096, disk_free_mb: 2000 },
    });
    expect(s.builders.find((b) => b.builder === 'build1')!.jobs_today).toEqual({ completed: 0, failed: 0 });
    expect(s.unread_messages).toEqual({ build1: 1, build2: 1, build7: 1 });
    expect(s.queue).toMatchObject({ paused: { by: 'alice' }, total: 3, by_status: { queued: 1, running: 1, completed: 1, failed: 0 }, by_type: { build: { running: 1, completed: 1, queued: 1 } } });
    expect(s.builders.map((b) => b.builder)).toEqual(['build1', 'build2', 'build7']);
    expect(s.builders[2]).toMatchObject({ configured: false, reason: 'not in shared/build_config.json' });
  });
});

describe('explainQueued: why is it still queued?', () => {
  const alive = { build1: sighting('build1', 1), build2: sighting('build2', 1) };
  const cases: { name: string; j: JobRecord; over?: Partial<FleetInput>; summary: RegExp; b1: RegExp | null; b2: RegExp | null }[] = [
    { name: 'paused', j: job('j'), over: { jobs: { $schema: '', paused: { by: 'alice', at: iso(NOW), reason: 'mirror down' }, grounded: {}, jobs: [] } }, summary: /the queue is paused by alice .*\(mirror down\)/, b1: /queue paused by alice/, b2: /queue paused/ },
    { name: 'unknown type', j: job('j', { type: 'nope' }), summary: /unknown job type "nope" .*defines: build, deb/, b1: /unknown job type/, b2: /unknown job type/ },
    { name: 'not before', j: job('j', { not_before: iso(NOW + 3600_000) }), summary: /it waits until 2026-11-30T13:00:00Z/, b1: /not before/, b2: /not before/ },
    { name: 'requirements met nowhere', j: job('j', { requires: { labels: ['gpu'] } }), summary: /no builder allows the type or meets its requirements/, b1: /label\(s\) gpu/, b2: /label\(s\) gpu/ },
    { name: 'type allowed on one builder, label missing there', j: job('j', { type: 'deb', requires: { arch: 'aarch64' } }), summary: /no builder allows the type/, b1: /requires arch aarch64, build1 is x86_64/, b2: /allowed only on build1/ },
    { name: 'failed on every builder that may run it', j: job('j', { type: 'deb', failed_on: ['build1'] }), summary: /it failed on every builder that may run it \(build1\)/, b1: /failed on build1 before/, b2: /allowed only on build1/ },
    { name: 'all eligible builders busy, grounded or offline', j: job('j'), over: { heartbeats: { build1: sighting('build1', 900), build2: sighting('build2', 1) }, jobs: { $schema: '', paused: null, grounded: { build2: { by: 'a', at: iso(NOW), reason: 'x' } }, jobs: [] } }, summary: /every builder that may run it \(build1, build2\) is busy, grounded, held back or offline/, b1: /build1 is offline/, b2: /build2 is grounded/ },
    { name: 'job_assignment lock held by another builder', j: job('j'), over: { heartbeats: alive, locks: { $schema: '', locks: { job_assignment: { locked_by: 'build1', locked_at: iso(NOW), expires_at: iso(NOW + 60_000), token: 'tttttttttt' } } } }, summary: /build1 should claim it/, b1: null, b2: /job_assignment lock held by build1/ },
    { name: 'busy: at its concurrency limit', j: job('j'), over: { jobs: { $schema: '', paused: null, grounded: {}, jobs: [job('r', { status: 'running', assigned_to: 'build1', attempt: 1 })] }, heartbeats: { build1: sighting('build1', 1), build2: sighting('build2', 900) } }, summary: /every builder/, b1: /build1 runs 1 of 1 allowed jobs/, b2: /offline/ },
    { name: 'next in line', j: job('j'), over: { heartbeats: alive }, summary: /next in line: build1, build2 should claim it/, b1: null, b2: null },
  ];
  test.each(cases)('$name', ({ j, over, summary, b1, b2 }) => {
    const e = explainQueued(j, input(over), 0);
    expect(e.summary).toMatch(summary);
    expect(e.builders.map((b) => b.builder)).toEqual(['build1', 'build2']);
    for (const [i, want] of [b1, b2].entries()) {
      if (want === null) expect(e.builders[i]).toMatchObject({ would_claim: true, reason: null });
      else expect(e.builders[i].reason).toMatch(want);
    }
  });
  test('waiting its turn behind other jobs', () => {
    expect(explainQueued(job('j'), input({ heartbeats: alive }), 3).summary).toMatch(/waiting its turn: 3 queued job\(s\) ahead of it; build1, build2 may take it/);
  });
});

describe('queue figures', () => {
  const done = (id: string, type: string, s: number, endedAgo: number) => job(id, { type, status: 'completed', history: [{ attempt: 1, builder: 'build1', claimed_at: iso(NOW - endedAgo - s * 1000), ended_at: iso(NOW - endedAgo), status: 'completed', duration_seconds: s }] });
  test('median of the last 10 completed attempts per type', () => {
    const hist = [done('a', 'build', 100, 1000), done('b', 'build', 300, 2000), done('c', 'build', 200, 3000), done('d', 'deb', 50, 1000)];
    expect(Object.fromEntries(typeDurations(hist))).toEqual({ build: 200, deb: 50 });
    const many = Array.from({ length: 12 }, (_, i) => done(`x${i}`, 'build', i < 10 ? 10 : 1000, i * 1000));
    expect(typeDurations(many).get('build')).toBe(10); // the two oldest (1000 s) are not among the last 10
  });
  test('positions and estimated waits: work ahead (queued + what is left of running) / slots', () => {
    const jobs = [
      done('d1', 'build', 120, 1000), done('d2', 'deb', 60, 1000),
      job('run', { status: 'running', assigned_to: 'build2', attempt: 1, started_at: iso(NOW - 20_000) }),
      job('q1', { priority: 1, created_at: iso(NOW - 10_000) }),
      job('q2', { priority: 5, created_at: iso(NOW - 20_000), type: 'deb' }),
      job('q3', { priority: 5, created_at: iso(NOW - 10_000) }),
      job('q4', { priority: 9, type: 'unknown-type' }),
      job('q5', { priority: 10 }),
    ];
    const p = queuePlaces(jobs, config, NOW);
    // build: build1 + build2, 1 + 2 slots = 3; deb only on build1: 1 slot. Running on build2: 120 - 20 = 100 s left.
    // Only work that competes for a job's builders is ahead of it (third trial).
    expect(Object.fromEntries(p)).toEqual({
      q1: { position: 1, estimated_wait_s: 33, wait_reason: null }, // 100 / 3
      q2: { position: 2, estimated_wait_s: 120, wait_reason: null }, // q1's 120 / 1 (nothing runs on build1)
      q3: { position: 3, estimated_wait_s: 93, wait_reason: null }, // (100 + 120 + 60) / 3
      q4: { position: null, estimated_wait_s: null, wait_reason: 'no_builder' }, // a type nobody defines: never, not counted
      q5: { position: 4, estimated_wait_s: 133, wait_reason: null }, // (100 + 120 + 60 + 120) / 3
    });
    // A job held by not_before waits at least until then, even first in the queue.
    const held = queuePlaces([job('h', { priority: 1, not_before: iso(NOW + 7_200_000) })], config, NOW);
    expect(held.get('h')).toEqual({ position: 1, estimated_wait_s: 7200, wait_reason: null });
    // A type that never completed ahead: no estimate.
    const unknownAhead = queuePlaces([job('n', { priority: 1, type: 'deb' }), job('m', { priority: 2 })], config, NOW);
    expect(unknownAhead.get('m')).toEqual({ position: 2, estimated_wait_s: null, wait_reason: 'no_history' });
  });
  test('listing order: running, queued in queue order, then finished newest first', () => {
    const jobs = [
      job('c-old', { status: 'completed', completed_at: iso(NOW - 5000) }), job('q-low', { priority: 9 }), job('r', { status: 'running', started_at: iso(NOW) }),
      job('c-new', { status: 'failed', completed_at: iso(NOW - 1000) }), job('q-high', { priority: 1 }),
    ];
    expect(jobs.sort(listingOrder).map((j) => j.id)).toEqual(['r', 'q-high', 'q-low', 'c-new', 'c-old']);
  });
});

describe('newLogOutput: following a bounded tail', () => {
  test.each([
    { name: 'nothing new', prev: 'a\nb\n', next: 'a\nb\n', text: '', gap: false },
    { name: 'appended', prev: 'a\nb\n', next: 'a\nb\nc\n', text: 'c\n', gap: false },
    { name: 'first text', prev: '', next: 'a\n', text: 'a\n', gap: false },
    { name: 'the tail moved on (start cut)', prev: 'line1\nline2\nline3\n', next: 'line2\nline3\nline4\n', text: 'line4\n', gap: false },
    { name: 'no overlap: everything, flagged as a gap', prev: 'old\n', next: 'brand new\n', text: 'brand new\n', gap: true },
    { name: 'repeated lines: the longest overlap wins', prev: 'x\nx\nx\n', next: 'x\nx\nx\ny\n', text: 'y\n', gap: false },
    { name: 'cut and repeated', prev: 'a\nx\nx\n', next: 'x\nx\nz\n', text: 'z\n', gap: false },
  ])('$name', ({ prev, next, text, gap }) => expect(newLogOutput(prev, next)).toEqual({ text, gap }));
});
