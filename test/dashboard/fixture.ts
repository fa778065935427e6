/**
 * A hand-built fleet for the pure dashboard tests: build1 healthy and running a job, build2
 * stale, build3 offline, build4 grounded; queued, running, failed, blocked and completed
 * jobs; a message and a job description carrying `<script>`; one held lock.
 */
import { DEFAULT_POLICY } from '../../lib/config/policy.js';
import type { SeenValue } from '../../lib/heartbeat/observe.js';
import { makeJob, type JobRecord } from '../../lib/jobs/model.js';
import type { LockJudge } from '../../lib/locks/model.js';
import type { DashboardData, DashboardSource } from '../../lib/dashboard/model.js';
import type { FleetInput, HeartbeatSighting } from '../../lib/ops/fleet-status.js';
import type { BuildConfigFile, HeartbeatFile } from '../../lib/schemas/types.gen.js';

export const NOW = Date.parse('2026-11-30T12:00:00Z');
export const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
export const XSS = '<script>alert("x")</script>';

const config: BuildConfigFile = {
  $schema: '../schemas/build_config.schema.json',
  builders: {
    build1: { arch: 'x86_64', labels: ['deb'], max_concurrent_jobs: 1 },
    build2: { arch: 'x86_64', labels: [], max_concurrent_jobs: 1 },
    build3: { arch: 'aarch64', labels: [], max_concurrent_jobs: 1 },
    build4: { arch: 'x86_64', labels: [], max_concurrent_jobs: 2 },
  },
  job_types: { build: { command: ['make'] }, deb: { command: ['dpkg-buildpackage'], allowed_builders: ['build1'] } },
};

const hb = (builder: string, over: Partial<HeartbeatFile> = {}): HeartbeatFile => ({
  $schema: '../schemas/heartbeat.schema.json', builder, timestamp: iso(NOW), sequence: 42, state: 'idle', interval_s: 60,
  system: { cpu_percent: 37.5, memory_used_mb: 2048, memory_total_mb: 8192, disk_free_mb: 40_000 }, ...over,
});
export const sighting = (builder: string, ageS: number, over: Partial<HeartbeatFile> = {}, source: SeenValue['source'] = 'observed'): HeartbeatSighting => ({
  heartbeat: hb(builder, over), source: 'ref', seen: { value: `c-${builder}`, first_seen: NOW - ageS * 1000, source },
});
export const job = (id: string, over: Partial<JobRecord> = {}): JobRecord => ({ ...makeJob({ type: 'build' }, id, 'alice', NOW - 3_600_000, DEFAULT_POLICY), ...over });
const judge: LockJudge = () => ({ expired: false, remainingMs: 60_000, ttlS: 300, source: 'observed', lastChange: NOW, graceS: 0 });

const attempt = (builder: string, endAgoS: number, durS: number, status: 'completed' | 'failed', n = 1) => ({
  attempt: n, builder, claimed_at: iso(NOW - (endAgoS + durS) * 1000), ended_at: iso(NOW - endAgoS * 1000), status, duration_seconds: durS,
});

export function fixtureJobs(): JobRecord[] {
  return [
    job('job-run', { status: 'running', assigned_to: 'build1', attempt: 1, started_at: iso(NOW - 125_000), history: [{ attempt: 1, builder: 'build1', claimed_at: iso(NOW - 125_000), status: 'running' }] }),
    job('job-q1', { description: XSS, priority: 2 }),
    job('job-q2', { type: 'nope', description: 'unknown type' }),
    job('job-failed', { status: 'failed', attempt: 3, max_attempts: 3, failed_on: ['build1'], error: 'exit 2', completed_at: iso(NOW - 7200_000), history: [attempt('build1', 7200, 30, 'failed', 3)] }),
    job('job-blocked', { status: 'blocked', attempt: 2, failed_on: ['build1', 'build4'], error: 'exit 1', completed_at: iso(NOW - 3600_000), history: [attempt('build1', 5000, 20, 'failed', 1), attempt('build4', 3600, 25, 'failed', 2)] }),
    job('job-done1', { status: 'completed', attempt: 1, started_at: iso(NOW - 90_000_000 - 300_000), completed_at: iso(NOW - 90_000_000), history: [attempt('build1', 90_000, 300, 'completed')] }),
    job('job-done2', { status: 'completed', attempt: 1, started_at: iso(NOW - 600_000 - 65_000), completed_at: iso(NOW - 600_000), history: [attempt('build4', 600, 65, 'completed')] }),
  ];
}

export function fixtureInput(over: Partial<FleetInput> = {}): FleetInput {
  return {
    now: NOW, config, policy: { ...DEFAULT_POLICY },
    jobs: { $schema: '../schemas/jobs.schema.json', paused: null, grounded: { build4: { by: 'alice', at: iso(NOW - 60_000), reason: 'disk <b>failing</b>' } }, jobs: fixtureJobs() },
    locks: { $schema: '../schemas/locks.schema.json', locks: { deploy: { locked_by: 'build1', locked_at: iso(NOW - 30_000), expires_at: iso(NOW + 270_000), token: 'tttttttttttt', reason: 'release <1.2>' } } },
    messages: { $schema: '../schemas/messages.schema.json', messages: [
      { id: 'msg-1', from: 'build2', to: 'all', type: 'warning', priority: 'high', subject: 'disk', body: `look: ${XSS}`, timestamp: iso(NOW - 100_000), read_by: ['build1'], acked_by: [] },
      { id: 'msg-2', from: 'alice', to: 'build1', type: 'info', priority: 'normal', subject: 'older', body: 'plain', timestamp: iso(NOW - 200_000), read_by: ['build1'], acked_by: [] },
    ] },
    statuses: {},
    heartbeats: {
      build1: sighting('build1', 5, { state: 'building', current_job: 'job-run' }),
      build2: sighting('build2', 240),
      build3: sighting('build3', 900),
      build4: sighting('build4', 10),
    },
    lockJudge: judge, ...over,
  };
}

export const fixtureSource = (over: Partial<DashboardSource> = {}): DashboardSource => ({
  commit: 'abcdef0123456789abcdef0123456789abcdef01', commitTimeMs: NOW - 30_000, fresh: true, fetchedAtMs: NOW, warnings: [], ...over,
});

export function fixtureData(over: { fleet?: Partial<FleetInput>; source?: Partial<DashboardSource>; archived?: JobRecord[] } = {}): DashboardData {
  return { fleet: fixtureInput(over.fleet), archived: over.archived ?? [], source: fixtureSource(over.source) };
}
