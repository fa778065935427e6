/**
 * Bug (found by a fresh user): with `coord daemon` running as build1 and a job running on
 * it, `coord daemon --once` in the same clone — or in another clone acting as build1 on the
 * same machine — exited 0 after "recovering" the live daemon's job as an orphan: it killed
 * the job's processes, the live daemon's completion was discarded, and the job ran again.
 * (Its guard, status.json's daemon pid, was overwritten by the second daemon's own first
 * heartbeat.) A second daemon for a builder now refuses (exit 4) naming the running one,
 * before writing anything; `coord heartbeat` is not blocked by the running daemon.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pidsWithEnv } from '../../lib/demo/processes.js';
import { runCoordCli } from '../support/cli.js';
import { cloneFor, gitSync, makeFleet, type Fleet } from '../support/git-fixture.js';
import { exited, fleetEnv, job, jobsOnOrigin, seed, startDaemon, waitFor } from '../support/daemon-fixture.js';

let fleet: Fleet;
const procs: ChildProcess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
  for (const pid of await pidsWithEnv('COORD_JOB_ID', 'job-live-single')) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  fleet?.cleanup();
});

/** The job's own shell (not its short-lived `sleep` children). */
const shellPids = async () => (await pidsWithEnv('COORD_JOB_ID', 'job-live-single')).filter((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('while'); } catch { return false; } });

test('a second daemon for a running builder (same clone, or another clone of the fleet) exits 4 naming it; the running job is untouched', async () => {
  fleet = await makeFleet(1);
  const release = path.join(fleet.dir, 'release');
  seed(fleet, (cfg, jobs) => {
    // Runs until the test releases it, however slow the machine is.
    cfg.job_types.hold = { command: ['sh', '-c', `i=0; while [ ! -f '${release}' ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i+1)); done`], timeout_s: 120 };
    jobs.jobs.push(job('job-live-single', 'hold', 1, 0));
  });
  const other = cloneFor(fleet.dir, fleet.origin, 'build1', 'build1-again');
  const log: string[] = [];
  const d = startDaemon(procs, fleet.clones.build1, 'build1', log);
  await waitFor(() => jobsOnOrigin(fleet)[0].status === 'running', 30_000, 'build1 to claim');
  for (let i = 0; i < 100 && !(await shellPids()).length; i++) await new Promise((r) => setTimeout(r, 100));
  const jobPids = await shellPids();
  expect(jobPids.length).toBeGreaterThan(0);

  const env = fleetEnv(fleet.clones.build1);
  for (const clone of [fleet.clones.build1, other]) {
    const head = gitSync(fleet.origin, ['rev-parse', 'main']);
    const r = await runCoordCli(['daemon', '--once'], { cwd: clone, env });
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`another daemon for build1 is running: pid ${d.pid} on \\S+, started \\d{4}-\\d\\d-\\d\\dT[0-9:]+Z, in \\S+; .*Stop it first \\(systemctl stop build-coord-build1, or kill ${d.pid}\\)`));
    // The live daemon keeps renewing its lease meanwhile; the refused one wrote nothing
    // (no status of its own, no expiry, no claim).
    const added = gitSync(fleet.origin, ['log', '--format=%s', `${head}..main`]).split('\n').filter(Boolean);
    expect(added.filter((m) => !/^coord\(build1\): (job\.renew job-live-single attempt 1|builder\.status building)$/.test(m))).toEqual([]);
  }
  // A daemon whose $TMPDIR differs (systemd's PrivateTmp) cannot see the lock: the pid that
  // status.json on main names, alive in /proc as a coord daemon, refuses it all the same.
  await waitFor(() => (JSON.parse(gitSync(fleet.origin, ['show', 'main:build1/status.json'])) as { daemon?: { pid?: number } }).daemon?.pid === d.pid, 30_000, 'the daemon\'s pid in status.json');
  const privateTmp = path.join(fleet.dir, 'private-tmp');
  mkdirSync(privateTmp);
  const headBefore = gitSync(fleet.origin, ['rev-parse', 'main']);
  const hidden = await runCoordCli(['daemon', '--once'], { cwd: other, env: { ...env, TMPDIR: privateTmp } });
  expect(hidden.exitCode).toBe(4);
  expect(hidden.stderr).toMatch(new RegExp(`another daemon for build1 is running: pid ${d.pid} on this machine \\(named by build1/status\\.json on main`));
  expect(gitSync(fleet.origin, ['log', '--format=%s', `${headBefore}..main`]).split('\n').filter((m) => m && !/^coord\(build1\): (job\.renew|builder\.status)/.test(m))).toEqual([]);
  // cron's heartbeat shares only the clone lock: it runs, and leaves the status to the daemon.
  const hb = await runCoordCli(['heartbeat'], { cwd: fleet.clones.build1, env });
  expect(hb.exitCode).toBe(0);
  expect(hb.stdout).toMatch(/daemon running: it owns the status/);

  const j = jobsOnOrigin(fleet)[0];
  expect([j.status, j.attempt]).toEqual(['running', 1]);
  expect(await shellPids()).toEqual(jobPids);

  writeFileSync(release, '');
  await waitFor(() => jobsOnOrigin(fleet)[0].status === 'completed', 30_000, 'the job to complete on its first attempt');
  expect(jobsOnOrigin(fleet)[0].history.map((h) => [h.attempt, h.status])).toEqual([[1, 'completed']]);
  expect(log.join('\n')).not.toMatch(/requeued|lease lost|discard/);
  d.kill('SIGTERM');
  await exited(d);
}, 90_000);
