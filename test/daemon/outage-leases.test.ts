/**
 * Bug (user trial, severity high): after a remote outage longer than the lease, peers
 * requeued every running job and the live runner's work was thrown away — `requeued …:
 * lease of build1 expired (attempt 1)` 4 s after the remote came back, though build1's
 * daemon was alive throughout and the observer could not fetch either. Observation time now
 * counts only while the observer could see the remote (METHODOLOGY.md section 5); a builder
 * that is really gone (dead before the outage, or unreachable while the observer sees the
 * remote) is still requeued. Real daemons, real git; the origin made unreachable by
 * renaming it.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { Sight } from '../../lib/heartbeat/observe.js';
import { pidsWithEnv } from '../../lib/demo/processes.js';
import { gitSync, makeFleet, type Fleet } from '../support/git-fixture.js';
import { exited, job, jobsOnOrigin, seed, startDaemon, waitFor } from '../support/daemon-fixture.js';

let fleet: Fleet;
const procs: ChildProcess[] = [];
const JOB = 'job-long';

afterEach(async () => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  // A daemon killed with SIGKILL leaves its job's processes behind.
  for (const pid of await pidsWithEnv('COORD_JOB_ID', JOB)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  fleet?.cleanup();
});

/** This clone's observations file (.git/coord/observations.json), or null before the first. */
function observations(clone: string): { leases: Record<string, unknown>; sight?: Sight } | null {
  try {
    return JSON.parse(readFileSync(path.join(clone, '.git/coord/observations.json'), 'utf8')) as { leases: Record<string, unknown>; sight?: Sight };
  } catch {
    return null;
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `body`; when it fails, the daemons' logs and build2's observations go to the console. */
async function showingLogs(logs: Record<string, string[]>, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    const obs = observations(fleet.clones.build2);
    console.log([...Object.entries(logs).flatMap(([b, l]) => [`--- ${b}`, ...l]), '--- build2 observations', JSON.stringify(obs)].join('\n'));
    throw err;
  }
}

/**
 * build1 claims a long job and build2 watches it; returns both daemons and their logs once
 * build2 has recorded the lease and a good look. A 12 s lease (ttl + grace = 15 s): long
 * enough that a loaded machine's slow ticks do not decide the outcome, short for a test.
 */
async function runningOnBuild1(): Promise<{ d1: ChildProcess; d2: ChildProcess; log1: string[]; log2: string[] }> {
  fleet = await makeFleet(2);
  seed(fleet, (cfg, jobs) => {
    cfg.policy.lease_ttl_s = 12;
    cfg.job_types.long = { command: ['sh', '-c', 'sleep 50'], timeout_s: 300 };
    jobs.jobs.push(job(JOB, 'long', 1, 0));
  });
  const log1: string[] = [];
  const log2: string[] = [];
  const d1 = startDaemon(procs, fleet.clones.build1, 'build1', log1);
  await waitFor(() => jobsOnOrigin(fleet)[0].status === 'running', 30_000, 'build1 to claim');
  expect(jobsOnOrigin(fleet)[0].assigned_to).toBe('build1');
  const d2 = startDaemon(procs, fleet.clones.build2, 'build2', log2);
  await waitFor(() => Boolean(observations(fleet.clones.build2)?.leases[JOB] && observations(fleet.clones.build2)?.sight?.last_ok), 30_000, 'build2 to watch the lease');
  return { d1, d2, log1, log2 };
}

test('remote outage longer than the lease: no peer requeues the running job, the runner keeps it (the reported bug)', async () => {
  const { d1, d2, log1, log2 } = await runningOnBuild1();
  await showingLogs({ build1: log1, build2: log2 }, async () => {
    const leaseBefore = (jobsOnOrigin(fleet)[0] as unknown as { lease_expires_at: string }).lease_expires_at;
    const away = `${fleet.origin}.away`;
    renameSync(fleet.origin, away);
    await waitFor(() => log1.some((l) => /build1 degraded: remote unreachable/.test(l)) && log2.some((l) => /build2 degraded: remote unreachable/.test(l)), 30_000, 'both daemons to notice');
    await waitFor(() => typeof observations(fleet.clones.build2)?.sight?.failed_since === 'number', 30_000, 'build2 to record a failed look');
    // Longer than lease + grace (15 s) of blindness for both.
    await pause(18_000);
    const back = Date.now();
    renameSync(away, fleet.origin);
    // build2 has looked again, and build1 has renewed; then give build2 a few more ticks to judge.
    await waitFor(() => {
      const s = observations(fleet.clones.build2)?.sight;
      return Boolean(s && s.failed_since === null && (s.last_ok ?? 0) >= back);
    }, 30_000, 'build2 to see the remote again');
    await waitFor(() => (jobsOnOrigin(fleet)[0] as unknown as { lease_expires_at: string }).lease_expires_at !== leaseBefore, 30_000, 'build1 to renew');
    await pause(3000);

    const j = jobsOnOrigin(fleet)[0];
    expect(j).toMatchObject({ status: 'running', assigned_to: 'build1', attempt: 1 });
    expect(log2.join('\n')).not.toMatch(/requeued job-long/);
    expect(log1.join('\n')).not.toMatch(/lease lost/);
    expect(d1.exitCode).toBeNull();
    expect(d2.exitCode).toBeNull();
  });
}, 90_000);

test('a builder dead before the outage is still requeued once the observer sees the remote again', async () => {
  const { d1, log2 } = await runningOnBuild1();
  await showingLogs({ build2: log2 }, async () => {
    d1.kill('SIGKILL');
    await exited(d1);
    const away = `${fleet.origin}.away`;
    renameSync(fleet.origin, away);
    await waitFor(() => typeof observations(fleet.clones.build2)?.sight?.failed_since === 'number', 30_000, 'build2 to record a failed look');
    await pause(5000);
    renameSync(away, fleet.origin);
    // (The log line follows the push: wait for it, not for the origin.)
    await waitFor(() => /requeued job-long: lease of build1 expired \(attempt 1\)/.test(log2.join('\n')), 40_000, 'build2 to requeue the dead builder\'s job');
    expect(jobsOnOrigin(fleet)[0].history[0]).toMatchObject({ builder: 'build1', attempt: 1, status: 'lease_lost' });
  });
}, 90_000);

test('the holder cannot reach the remote while the observer can: its lease expires and the job is requeued', async () => {
  const { log1, log2 } = await runningOnBuild1();
  await showingLogs({ build1: log1, build2: log2 }, async () => {
    // Only build1's way to the remote breaks; build2 keeps seeing it, so the time counts.
    gitSync(fleet.clones.build1, ['remote', 'set-url', 'origin', `${fleet.origin}.nowhere`]);
    await waitFor(() => /requeued job-long: lease of build1 expired \(attempt 1\)/.test(log2.join('\n')), 40_000, 'build2 to requeue');
    expect(jobsOnOrigin(fleet)[0].history[0]).toMatchObject({ builder: 'build1', attempt: 1, status: 'lease_lost' });
    expect(observations(fleet.clones.build2)?.sight?.blind ?? []).toEqual([]);
    // Back on the remote, build1 learns the lease is gone and stops its processes.
    gitSync(fleet.clones.build1, ['remote', 'set-url', 'origin', fleet.origin]);
    await waitFor(() => log1.some((l) => /lease lost on job-long/.test(l)), 30_000, 'build1 to give the job up');
  });
}, 90_000);
