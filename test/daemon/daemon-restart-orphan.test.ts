/**
 * Bug (found by `npm run chaos`): a daemon killed with SIGKILL and restarted as the same
 * builder left the job it had claimed `running` for ever — peers never expire it (the
 * builder keeps beating) and the new daemon did not know it — and the old attempt's
 * processes ran on as orphans. The restarted daemon must kill them and give the claim up.
 */
import type { ChildProcess } from 'node:child_process';
import { pidsWithEnv } from '../../lib/demo/processes.js';
import { makeFleet, type Fleet } from '../support/git-fixture.js';
import { job, jobsOnOrigin, seed, startDaemon, waitFor } from '../support/daemon-fixture.js';

let fleet: Fleet;
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
  fleet?.cleanup();
});

test('restarted after SIGKILL, a daemon kills its orphaned attempt and requeues it; the job then completes', async () => {
  fleet = await makeFleet(1);
  seed(fleet, (cfg, jobs) => {
    // Attempt 1 hangs (and would outlive its daemon); later attempts finish at once.
    cfg.job_types.stuck = { command: ['sh', '-c', 'if [ "$COORD_ATTEMPT" = 1 ]; then sleep 120; fi'], timeout_s: 300 };
    jobs.jobs.push(job('job-orphan', 'stuck', 1, 0));
  });
  const log: string[] = [];
  const d1 = startDaemon(procs, fleet.clones.build1, 'build1', log);
  await waitFor(() => jobsOnOrigin(fleet)[0].status === 'running', 30_000, 'build1 to claim');
  for (let i = 0; i < 100 && !(await pidsWithEnv('COORD_JOB_ID', 'job-orphan')).length; i++) await new Promise((r) => setTimeout(r, 100));
  d1.kill('SIGKILL');
  await new Promise((r) => d1.once('exit', r));
  expect(jobsOnOrigin(fleet)[0].status).toBe('running');
  expect((await pidsWithEnv('COORD_JOB_ID', 'job-orphan')).length).toBeGreaterThan(0);

  const d2 = startDaemon(procs, fleet.clones.build1, 'build1', log);
  await waitFor(() => jobsOnOrigin(fleet)[0].status === 'completed', 60_000, 'the job to be recovered and completed');
  const j = jobsOnOrigin(fleet)[0];
  expect(j.attempt).toBe(2);
  expect(j.history.map((h) => [h.builder, h.attempt, h.status])).toEqual([['build1', 1, 'lease_lost'], ['build1', 2, 'completed']]);
  // The record says what happened (not "lease expired (seen by build1)").
  expect((j.history[0] as { error?: string }).error).toBe("claimed by an earlier run of build1's daemon that never reported it");
  expect(await pidsWithEnv('COORD_JOB_ID', 'job-orphan')).toEqual([]);
  expect(log.join('\n')).toMatch(/requeued job-orphan: attempt 1 was claimed by an earlier run of this daemon/);
  d2.kill('SIGTERM');
  await new Promise((r) => d2.once('exit', r));
}, 120_000);
