/**
 * Real daemons as separate processes against a bare origin (issue: the builder daemon).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gitSync, hermeticEnv, makeFleet, originJson, ROOT, type Fleet } from '../support/git-fixture.js';

let fleet: Fleet;
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
  fleet?.cleanup();
});

interface JobOnDisk { id: string; status: string; priority: number; assigned_to: string | null; attempt: number; history: { builder: string; attempt: number; status: string; claimed_at: string }[] }

/** Seeds policy, job types and jobs with plain git from a scratch clone (as an agent would). */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
function seed(f: Fleet, mutate: (cfg: Json, jobs: Json) => void): void {
  const c = path.join(f.dir, 'seed-edit');
  gitSync(f.dir, ['clone', '-q', f.origin, c]);
  const cfgPath = path.join(c, 'shared/build_config.json');
  const jobsPath = path.join(c, 'coordination/jobs.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Json;
  const jobs = JSON.parse(readFileSync(jobsPath, 'utf8')) as Json;
  cfg.policy = { ...cfg.policy, heartbeat_interval_s: 1, lease_ttl_s: 4, main_heartbeat_every_s: 3600, clock_skew_s: 0, drain_timeout_s: 2 };
  mutate(cfg, jobs);
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2) + '\n');
  writeFileSync(jobsPath, JSON.stringify(jobs, null, 2) + '\n');
  gitSync(c, ['commit', '-qam', 'seed']);
  gitSync(c, ['push', '-q', 'origin', 'main']);
}

function job(id: string, type: string, priority: number, minute: number) {
  return { id, type, priority, status: 'queued', created_at: `2026-11-30T10:${String(minute).padStart(2, '0')}:00Z` };
}

function startDaemon(clone: string, builder: string, log: string[]): ChildProcess {
  const p = spawn('node', [path.join(ROOT, 'bin/coord.js'), '--builder', builder, 'daemon', '--poll-interval', '0.3'], { cwd: clone, env: hermeticEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  p.stderr.on('data', (d: Buffer) => log.push(...d.toString().split('\n').filter(Boolean)));
  procs.push(p);
  return p;
}

async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    gitSync(fleet.dir, ['-C', fleet.origin, 'rev-parse', 'main']);
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const jobsOnOrigin = () => (originJson(fleet.origin, 'coordination/jobs.json') as { jobs: JobOnDisk[] }).jobs;

test('3 daemons drain 30 jobs of mixed priority: each completed exactly once, in priority order per builder', async () => {
  fleet = await makeFleet(3);
  seed(fleet, (cfg, jobs) => {
    cfg.job_types.quick = { command: ['sh', '-c', 'sleep 0.2'], timeout_s: 30 };
    for (let i = 0; i < 30; i++) jobs.jobs.push(job(`job-${String(i).padStart(2, '0')}`, 'quick', (i % 3) + 1, i));
  });
  const log: string[] = [];
  const ds = ['build1', 'build2', 'build3'].map((b) => startDaemon(fleet.clones[b], b, log));
  await waitFor(() => jobsOnOrigin().every((j) => j.status === 'completed'), 150_000, 'all jobs completed');
  for (const d of ds) d.kill('SIGTERM');
  await Promise.all(ds.map((d) => new Promise((r) => d.once('exit', r))));
  const jobs = jobsOnOrigin();
  expect(jobs).toHaveLength(30);
  for (const j of jobs) {
    expect(j.attempt).toBe(1);
    expect(j.history).toHaveLength(1);
    expect(j.history[0].status).toBe('completed');
  }
  // Per builder, claims come in priority order (all jobs were queued before the start).
  for (const b of ['build1', 'build2', 'build3']) {
    const mine = jobs.filter((j) => j.assigned_to === b).sort((x, y) => x.history[0].claimed_at.localeCompare(y.history[0].claimed_at) || x.id.localeCompare(y.id));
    const prios = mine.map((j) => j.priority);
    expect(prios).toEqual([...prios].sort((x, y) => x - y));
  }
  expect(ds.every((d) => d.exitCode === 0)).toBe(true);
  const status = originJson(fleet.origin, 'build1/status.json') as { state: string };
  expect(status.state).toBe('offline');
}, 200_000);

test('a daemon killed with SIGKILL mid-job: after the lease its job is rerun by another builder', async () => {
  fleet = await makeFleet(2);
  seed(fleet, (cfg, jobs) => {
    cfg.job_types.slow = { command: ['sh', '-c', 'sleep 3'], timeout_s: 60, allowed_builders: ['build1', 'build2'] };
    jobs.jobs.push(job('job-slow', 'slow', 1, 0));
  });
  const log: string[] = [];
  const d1 = startDaemon(fleet.clones.build1, 'build1', log);
  await waitFor(() => jobsOnOrigin()[0].status === 'running', 30_000, 'build1 to claim');
  d1.kill('SIGKILL');
  const d2 = startDaemon(fleet.clones.build2, 'build2', log);
  await waitFor(() => jobsOnOrigin()[0].status === 'completed', 60_000, 'the job to be rerun');
  const j = jobsOnOrigin()[0];
  expect(j.assigned_to).toBe('build2');
  expect(j.attempt).toBe(2);
  expect(j.history.map((h) => [h.builder, h.status])).toEqual([['build1', 'lease_lost'], ['build2', 'completed']]);
  d2.kill('SIGTERM');
  await new Promise((r) => d2.once('exit', r));
}, 120_000);
