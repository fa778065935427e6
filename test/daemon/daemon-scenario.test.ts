/**
 * Real daemons as separate processes against a bare origin (issue: the builder daemon).
 */
import type { ChildProcess } from 'node:child_process';
import { gitSync, makeFleet, originJson, type Fleet } from '../support/git-fixture.js';
import { exited, job, jobsOnOrigin, seed, startDaemon, waitFor } from '../support/daemon-fixture.js';

let fleet: Fleet;
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
  fleet?.cleanup();
});

test('3 daemons drain 30 jobs of mixed priority: each completed exactly once, in priority order per builder', async () => {
  fleet = await makeFleet(3);
  seed(fleet, (cfg, jobs) => {
    cfg.job_types.quick = { command: ['sh', '-c', 'sleep 0.2'], timeout_s: 30 };
    // No daemon dies here: a lease long enough that a renewal delayed by a loaded CI machine
    // (the 4 s test lease renews every 2 s) cannot expire and requeue a job (attempt 2).
    (cfg.policy as Record<string, unknown>).lease_ttl_s = 20;
    for (let i = 0; i < 30; i++) jobs.jobs.push(job(`job-${String(i).padStart(2, '0')}`, 'quick', (i % 3) + 1, i));
  });
  const log: string[] = [];
  const ds = ['build1', 'build2', 'build3'].map((b) => startDaemon(procs, fleet.clones[b], b, log));
  await waitFor(() => jobsOnOrigin(fleet).every((j) => j.status === 'completed'), 150_000, 'all jobs completed');
  for (const d of ds) d.kill('SIGTERM');
  await Promise.all(ds.map(exited));
  const jobs = jobsOnOrigin(fleet);
  expect(jobs).toHaveLength(30);
  for (const j of jobs) {
    expect(j.attempt).toBe(1);
    expect(j.history).toHaveLength(1);
    expect(j.history[0].status).toBe('completed');
  }
  // Per builder, claims come in priority order (all jobs were queued before the start).
  // Claim order is the order of the claim commits on main (claimed_at has whole seconds only,
  // and one builder makes several claims in a second).
  const claimOrder = gitSync(fleet.origin, ['log', '--reverse', '--format=%(trailers:key=Coord-Action,valueonly,separator=%x2C) %(trailers:key=Coord-Job,valueonly,separator=%x2C)', 'main'])
    .split('\n').filter((l) => l.startsWith('job.claim ')).map((l) => l.split(' ')[1]);
  for (const b of ['build1', 'build2', 'build3']) {
    const mine = jobs.filter((j) => j.assigned_to === b).sort((x, y) => claimOrder.indexOf(x.id) - claimOrder.indexOf(y.id));
    expect(mine.every((j) => claimOrder.includes(j.id))).toBe(true);
    const prios = mine.map((j) => j.priority);
    expect(prios).toEqual([...prios].sort((x, y) => x - y));
  }
  expect(ds.every((d) => d.exitCode === 0)).toBe(true);
  // The status rides in the claim and completion commits: no builder.status commit of its
  // own per job (at most start-up, an occasional figure-free change, and shutdown each).
  const actions = gitSync(fleet.origin, ['log', '--format=%(trailers:key=Coord-Action,valueonly)', 'main']).split('\n').filter(Boolean);
  expect(actions.filter((a) => a === 'builder.status').length).toBeLessThanOrEqual(3 * 3);
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
  const d1 = startDaemon(procs, fleet.clones.build1, 'build1', log);
  await waitFor(() => jobsOnOrigin(fleet)[0].status === 'running', 30_000, 'build1 to claim');
  d1.kill('SIGKILL');
  const d2 = startDaemon(procs, fleet.clones.build2, 'build2', log);
  await waitFor(() => jobsOnOrigin(fleet)[0].status === 'completed', 60_000, 'the job to be rerun');
  const j = jobsOnOrigin(fleet)[0];
  expect(j.assigned_to).toBe('build2');
  expect(j.attempt).toBe(2);
  expect(j.history.map((h) => [h.builder, h.status])).toEqual([['build1', 'lease_lost'], ['build2', 'completed']]);
  d2.kill('SIGTERM');
  await exited(d2);
}, 120_000);
