/**
 * Bug (found by `npm run chaos`): a daemon killed with SIGKILL and restarted as the same
 * builder left the job it had claimed `running` for ever — peers never expire it (the
 * builder keeps beating) and the new daemon did not know it — and the old attempt's
 * processes ran on as orphans. The restarted daemon must kill them and give the claim up.
 */
import type { ChildProcess } from 'node:child_process';
import { pidsWithEnv } from '../../lib/demo/processes.js';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gitSync, makeFleet, originJson, type Fleet } from '../support/git-fixture.js';
import { job, jobsOnOrigin, seed, startDaemon, waitFor } from '../support/daemon-fixture.js';

let fleet: Fleet;
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
  fleet?.cleanup();
});

test('restarted after SIGKILL, a daemon kills its orphaned attempt and requeues it at once (its earlier run was this host\'s and is dead); the job then completes', async () => {
  fleet = await makeFleet(1);
  seed(fleet, (cfg, jobs) => {
    // Attempt 1 hangs (and would outlive its daemon); later attempts finish at once.
    cfg.job_types.stuck = { command: ['sh', '-c', 'if [ "$COORD_ATTEMPT" = 1 ]; then sleep 120; fi'], timeout_s: 300 };
    jobs.jobs.push(job('job-orphan', 'stuck', 1, 0));
    // A 10-minute lease: the renewal window (5 min) is far beyond this test's waits, so the
    // recovery seen here is the at-once path (status.json names this host's dead daemon).
    (cfg.policy as Record<string, unknown>).lease_ttl_s = 600;
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

test('an orphan whose status.json names another host is left until a live owner would have renewed it (a second machine as the same builder keeps its job)', async () => {
  fleet = await makeFleet(1);
  seed(fleet, (cfg, jobs) => {
    cfg.job_types.stuck = { command: ['sh', '-c', 'sleep 120'], timeout_s: 300 };
    jobs.jobs.push(job('job-elsewhere', 'stuck', 1, 0));
    (cfg.policy as Record<string, unknown>).lease_ttl_s = 600;
  });
  const log: string[] = [];
  const d1 = startDaemon(procs, fleet.clones.build1, 'build1', log);
  await waitFor(() => jobsOnOrigin(fleet)[0].status === 'running', 30_000, 'build1 to claim');
  d1.kill('SIGKILL');
  await new Promise((r) => d1.once('exit', r));
  // status.json now says the daemon that claimed it runs on another machine.
  const c = path.join(fleet.dir, 'edit-status');
  gitSync(fleet.dir, ['clone', '-q', fleet.origin, c]);
  const file = path.join(c, 'build1/status.json');
  const st = JSON.parse(readFileSync(file, 'utf8')) as { daemon: { host?: string } };
  st.daemon.host = 'other-machine.invalid';
  writeFileSync(file, JSON.stringify(st, null, 2) + '\n');
  gitSync(c, ['commit', '-qam', 'daemon on another host']);
  gitSync(c, ['push', '-q', 'origin', 'main']);

  const seqOf = (): number => {
    try {
      return (originJson(fleet.origin, 'build1/heartbeat.json', 'refs/coord/heartbeats/build1') as { sequence: number }).sequence;
    } catch {
      return 0;
    }
  };
  const before = seqOf();
  const d2 = startDaemon(procs, fleet.clones.build1, 'build1', log);
  // Several full daemon cycles (each beats once a second here), then the job is untouched.
  await waitFor(() => seqOf() >= before + 4, 45_000, 'four heartbeats from the restarted daemon');
  const j = jobsOnOrigin(fleet)[0];
  expect([j.status, j.attempt]).toEqual(['running', 1]);
  expect(log.join('\n')).not.toMatch(/requeued job-elsewhere/);
  d2.kill('SIGTERM');
  await new Promise((r) => d2.once('exit', r));
  for (const pid of await pidsWithEnv('COORD_JOB_ID', 'job-elsewhere')) process.kill(pid, 'SIGKILL');
}, 120_000);

test('processes of an attempt that ended while the daemon was down (cancelled meanwhile) are stopped when it restarts', async () => {
  fleet = await makeFleet(1);
  seed(fleet, (cfg, jobs) => {
    cfg.job_types.stuck = { command: ['sh', '-c', 'sleep 120'], timeout_s: 300 };
    jobs.jobs.push(job('job-ended', 'stuck', 1, 0));
    (cfg.policy as Record<string, unknown>).lease_ttl_s = 600;
  });
  const log: string[] = [];
  const d1 = startDaemon(procs, fleet.clones.build1, 'build1', log);
  await waitFor(() => jobsOnOrigin(fleet)[0].status === 'running', 30_000, 'build1 to claim');
  for (let i = 0; i < 100 && !(await pidsWithEnv('COORD_JOB_ID', 'job-ended')).length; i++) await new Promise((r) => setTimeout(r, 100));
  d1.kill('SIGKILL');
  await new Promise((r) => d1.once('exit', r));
  expect((await pidsWithEnv('COORD_JOB_ID', 'job-ended')).length).toBeGreaterThan(0);
  // While build1 is down the job ends elsewhere (here: cancelled by hand, as a peer would at lease expiry).
  const c = path.join(fleet.dir, 'edit-jobs');
  gitSync(fleet.dir, ['clone', '-q', fleet.origin, c]);
  const file = path.join(c, 'coordination/jobs.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { jobs: Record<string, unknown>[] };
  doc.jobs[0].status = 'cancelled';
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  gitSync(c, ['commit', '-qam', 'cancelled while build1 was down']);
  gitSync(c, ['push', '-q', 'origin', 'main']);

  const d2 = startDaemon(procs, fleet.clones.build1, 'build1', log);
  await waitFor(() => log.some((l) => /stopping \d+ process\(es\) left by an earlier run for job-ended attempt 1 \(the job is now cancelled\)/.test(l)), 30_000, 'the stray attempt to be stopped');
  for (let i = 0; i < 100 && (await pidsWithEnv('COORD_JOB_ID', 'job-ended')).length; i++) await new Promise((r) => setTimeout(r, 100));
  expect(await pidsWithEnv('COORD_JOB_ID', 'job-ended')).toEqual([]);
  expect(jobsOnOrigin(fleet)[0].status).toBe('cancelled');
  d2.kill('SIGTERM');
  await new Promise((r) => d2.once('exit', r));
}, 120_000);
