/**
 * Bug (third trial): a grounding whose `until` had passed no longer stopped the builder from
 * claiming, yet its daemon kept writing `state: grounded` (and the grounded record) into
 * status.json, so the fleet view said grounded while it built.
 */
import type { ChildProcess } from 'node:child_process';
import { makeFleet, originJson, type Fleet } from '../support/git-fixture.js';
import { exited, job, jobsOnOrigin, seed, startDaemon, waitFor } from '../support/daemon-fixture.js';

let fleet: Fleet;
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
  fleet?.cleanup();
});

test('an expired grounding: the daemon claims and its status says idle/building, not grounded', async () => {
  fleet = await makeFleet(1);
  seed(fleet, (cfg, jobs) => {
    cfg.job_types.quick = { command: ['sh', '-c', 'true'], timeout_s: 30 };
    jobs.jobs.push(job('job-after-grounding', 'quick', 1, 0));
    jobs.grounded = { build1: { by: 'operator', at: '2026-01-01T00:00:00Z', reason: 'disk swap', until: '2026-01-01T01:00:00Z' } };
  });
  const log: string[] = [];
  const d = startDaemon(procs, fleet.clones.build1, 'build1', log);
  await waitFor(() => jobsOnOrigin(fleet)[0].status === 'completed', 60_000, 'the job to run');
  await waitFor(() => (originJson(fleet.origin, 'build1/status.json') as { last_build: { id: string } | null }).last_build?.id === 'job-after-grounding', 30_000, 'the status after the job');
  const status = originJson(fleet.origin, 'build1/status.json') as { state: string; grounded: unknown };
  expect(status).toMatchObject({ state: 'idle', grounded: null });
  d.kill('SIGTERM');
  await exited(d);
}, 120_000);

test('a daemon whose builder is removed from the build config says so and claims nothing', async () => {
  fleet = await makeFleet(2);
  seed(fleet, (cfg, jobs) => {
    cfg.job_types.quick = { command: ['sh', '-c', 'true'], timeout_s: 30 };
    delete (cfg.builders as Record<string, unknown>).build2;
    jobs.jobs.push(job('job-for-nobody', 'quick', 1, 0));
  });
  const log: string[] = [];
  const d = startDaemon(procs, fleet.clones.build2, 'build2', log);
  await waitFor(() => log.some((l) => /build2 is not in shared\/build_config\.json any more: it claims nothing/.test(l)), 30_000, 'the daemon to say it is not configured');
  expect(log.join('\n')).not.toMatch(/would write invalid data/);
  expect(jobsOnOrigin(fleet)[0].status).toBe('queued');
  d.kill('SIGTERM');
  await exited(d);
}, 60_000);
