/**
 * Daemon rules against real processes: cancel kills the whole tree, fencing after SIGSTOP,
 * schedules enqueue a slot once, outages, and main's history staying small.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cancelJob } from '../../lib/jobs/model.js';
import type { JobsFile } from '../../lib/schemas/types.gen.js';
import { runTransaction } from '../../lib/tx/transaction.js';
import { pidsTaggedWith } from '../../lib/daemon/process-tree.js';
import { gitSync, makeFleet, originJson, type Fleet } from '../support/git-fixture.js';
import { DAEMON_NOT_RUNNING } from '../../lib/daemon/daemon.js';
import { parseSingleJson, runCoordCli } from '../support/cli.js';
import { exited, job, jobsOnOrigin, seed, startDaemon, waitFor } from '../support/daemon-fixture.js';

let fleet: Fleet;
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) {
    if (p.exitCode === null) {
      try { p.kill('SIGCONT'); } catch { /* gone */ }
      p.kill('SIGKILL');
    }
  }
  fleet?.cleanup();
});

async function requestCancel(clone: string, id: string): Promise<void> {
  const out = await runTransaction({
    repoRoot: clone, actor: 'operator', action: 'job.cancel', paths: ['coordination/jobs.json'],
    mutate: (s, now) => {
      const t = cancelJob(s.files.get('coordination/jobs.json') as JobsFile, id, now);
      if (!t.ok) return { kind: 'refuse', refusal: t.refusal };
      return { kind: 'commit', writes: new Map([['coordination/jobs.json', t.doc]]), summary: id, result: true };
    },
  });
  expect(out.status).toBe('committed');
}

test('cancel of a running job whose command spawns background grandchildren: none survive', async () => {
  fleet = await makeFleet(1);
  seed(fleet, (cfg, jobs) => {
    // A detached grandchild (setsid: a new session, out of the job's process group) and a
    // plain background one; the leader waits forever.
    cfg.job_types.forker = { command: ['sh', '-c', 'sleep 300 & setsid sleep 301 & echo started; sleep 302'], timeout_s: 600 };
    jobs.jobs.push(job('job-forker', 'forker', 1, 0));
  });
  const log: string[] = [];
  const d = startDaemon(procs, fleet.clones.build1, 'build1', log);
  await waitFor(() => jobsOnOrigin(fleet)[0].status === 'running', 30_000, 'the claim');
  await waitFor(() => false, 1500, 'grandchildren to start').catch(() => undefined);
  expect((await pidsTaggedWith('job-forker')).length).toBeGreaterThanOrEqual(3);
  await requestCancel(fleet.clones.build1, 'job-forker');
  await waitFor(() => jobsOnOrigin(fleet)[0].status === 'cancelled', 30_000, 'the cancellation');
  expect(await pidsTaggedWith('job-forker')).toEqual([]);
  d.kill('SIGTERM');
  await exited(d);
}, 90_000);

test('a daemon frozen with SIGSTOP past its lease: its late completion is rejected, only the new holder\'s result stands', async () => {
  fleet = await makeFleet(2);
  seed(fleet, (cfg, jobs) => {
    cfg.job_types.steady = { command: ['sh', '-c', 'sleep 5; echo "finished by $COORD_BUILDER attempt $COORD_ATTEMPT"'], timeout_s: 60 };
    jobs.jobs.push(job('job-steady', 'steady', 1, 0));
  });
  const log: string[] = [];
  const d1 = startDaemon(procs, fleet.clones.build1, 'build1', log);
  await waitFor(() => jobsOnOrigin(fleet)[0].status === 'running', 30_000, 'build1 to claim');
  d1.kill('SIGSTOP');
  const d2 = startDaemon(procs, fleet.clones.build2, 'build2', log);
  await waitFor(() => jobsOnOrigin(fleet)[0].assigned_to === 'build2', 60_000, 'build2 to take the job over');
  d1.kill('SIGCONT');
  await waitFor(() => jobsOnOrigin(fleet)[0].status === 'completed', 60_000, 'build2 to complete');
  await waitFor(() => log.some((l) => /build1 (lease lost|late completion|discarding)/.test(l)), 30_000, 'build1 to notice the lost lease');
  const j = jobsOnOrigin(fleet)[0];
  if (process.env.DEBUG_TEST) console.log(log.join('\n'), JSON.stringify(j.history, null, 1));
  expect(j.history.map((h) => [h.builder, h.attempt, h.status])).toEqual([['build1', 1, 'lease_lost'], ['build2', 2, 'completed']]);
  expect(j.assigned_to).toBe('build2');
  // build1's own process of the job was stopped (nothing tagged remains once both are done).
  await waitFor(() => false, 1000, '').catch(() => undefined);
  expect(await pidsTaggedWith('job-steady')).toEqual([]);
  for (const d of [d1, d2]) d.kill('SIGTERM');
  await Promise.all([exited(d1), exited(d2)]);
}, 150_000);

test('two builders racing on a due schedule slot enqueue it once', async () => {
  fleet = await makeFleet(2);
  seed(fleet, (cfg, _jobs, schedules) => {
    cfg.job_types.nightly = { command: ['true'], timeout_s: 30 };
    schedules.schedules.push({ id: 'every-minute', cron: '* * * * *', enabled: true, job: { type: 'nightly', priority: 3 }, created_at: '2026-01-01T00:00:00Z', created_by: 'operator', last_slot: null });
  });
  const log: string[] = [];
  const ds = ['build1', 'build2'].map((b) => startDaemon(procs, fleet.clones[b], b, log));
  await waitFor(() => jobsOnOrigin(fleet).some((j) => j.status === 'completed'), 60_000, 'the scheduled job to run');
  for (const d of ds) d.kill('SIGTERM');
  await Promise.all(ds.map(exited));
  const jobs = jobsOnOrigin(fleet);
  const slots = new Map<string, number>();
  for (const j of jobs) slots.set(j.id, (slots.get(j.id) ?? 0) + 1);
  expect([...slots.values()].every((n) => n === 1)).toBe(true);
  // At most one job per minute slot (a minute boundary may pass during the test).
  expect(jobs.length).toBeLessThanOrEqual(2);
  expect(jobs.every((j) => /-sched-every-minute$/.test(j.id))).toBe(true);
}, 90_000);

test('remote unreachable for a while: the daemon keeps running, queues its status, and catches up', async () => {
  fleet = await makeFleet(1);
  seed(fleet, (cfg) => { cfg.policy.main_heartbeat_every_s = 2; });
  const log: string[] = [];
  const d = startDaemon(procs, fleet.clones.build1, 'build1', log);
  await waitFor(() => (originJson(fleet.origin, 'build1/status.json') as { state: string }).state === 'idle', 30_000, 'first status');
  const away = `${fleet.origin}-away`;
  renameSync(fleet.origin, away);
  await waitFor(() => log.some((l) => /degraded: remote unreachable/.test(l)), 30_000, 'the daemon to notice');
  await waitFor(() => false, 3000, '').catch(() => undefined);
  expect(d.exitCode).toBeNull();
  const pending = execFileSync('git', ['-C', fleet.clones.build1, 'rev-list', '--count', 'refs/coord/pending', '--not', 'refs/remotes/origin/main'], { encoding: 'utf8' }).trim();
  expect(Number(pending)).toBeGreaterThanOrEqual(1);
  renameSync(away, fleet.origin);
  const before = Number(gitSync(fleet.origin, ['rev-list', '--count', 'main']));
  await waitFor(() => Number(gitSync(fleet.origin, ['rev-list', '--count', 'main'])) > before, 30_000, 'queued commits to arrive');
  const subjects = gitSync(fleet.origin, ['log', '--format=%s', 'main']);
  expect(subjects).toContain('builder.status');
  expect(d.exitCode).toBeNull();
  d.kill('SIGTERM');
  await exited(d);
}, 120_000);

test('main gains at most one status commit per builder per main_heartbeat_every_s when nothing else happens', async () => {
  fleet = await makeFleet(2);
  seed(fleet, () => undefined);
  const start = Number(gitSync(fleet.origin, ['rev-list', '--count', 'main']));
  const log: string[] = [];
  const ds = ['build1', 'build2'].map((b) => startDaemon(procs, fleet.clones[b], b, log));
  // At least four heartbeats each (1 s interval; waited for, not timed, so a loaded machine
  // only makes it slower), then count main's commits.
  const seqOf = (b: string): number => {
    try {
      return (originJson(fleet.origin, `${b}/heartbeat.json`, `refs/coord/heartbeats/${b}`) as { sequence: number }).sequence;
    } catch {
      return 0;
    }
  };
  await waitFor(() => seqOf('build1') >= 4 && seqOf('build2') >= 4, 45_000, 'four heartbeats from each builder');
  const added = Number(gitSync(fleet.origin, ['rev-list', '--count', 'main'])) - start;
  // One state change each (offline → idle); heartbeats went to the refs.
  expect(added).toBeLessThanOrEqual(2);
  for (const d of ds) d.kill('SIGTERM');
  await Promise.all(ds.map(exited));
}, 60_000);

test('coord heartbeat from cron with no daemon running: degraded "daemon not running", no daemon named, main not rewritten each minute', async () => {
  fleet = await makeFleet(1);
  // A 30 s beat interval: on a loaded machine the status read below may come more than
  // 3 intervals of the 1 s test policy after the beat, and "stale" would hide "degraded".
  seed(fleet, (cfg) => { cfg.policy.heartbeat_interval_s = 30; });
  const env = { COORD_BUILDER: 'build1' };
  const first = await runCoordCli(['heartbeat'], { cwd: fleet.clones.build1, env });
  expect(first.exitCode).toBe(0);
  const status = originJson(fleet.origin, 'build1/status.json') as { state: string; daemon: unknown; degraded: { reason: string; since: string } | null };
  expect(status.daemon).toBeNull();
  expect(status.degraded?.reason).toContain(DAEMON_NOT_RUNNING);
  const commits = Number(gitSync(fleet.origin, ['rev-list', '--count', 'main']));
  for (let i = 0; i < 2; i++) expect((await runCoordCli(['heartbeat'], { cwd: fleet.clones.build1, env })).exitCode).toBe(0);
  // The heartbeat ref moved each time; main did not (same status essence, same `since`).
  expect(Number(gitSync(fleet.origin, ['rev-list', '--count', 'main']))).toBe(commits);
  expect((originJson(fleet.origin, 'build1/status.json') as typeof status).degraded?.since).toBe(status.degraded?.since);
  const st = await runCoordCli(['status', '--json'], { cwd: fleet.clones.build1, env });
  const view = parseSingleJson(st.stdout) as { builders: { builder: string; health: string; reason: string }[] };
  expect(view.builders.find((b) => b.builder === 'build1')).toMatchObject({ health: 'degraded', reason: expect.stringContaining('daemon not running') });
}, 60_000);

test('cron heartbeat: status.json naming a live pid that is no coord daemon (pid reused) does not count as a running daemon', async () => {
  fleet = await makeFleet(1);
  seed(fleet, () => undefined);
  const env = { COORD_BUILDER: 'build1' };
  expect((await runCoordCli(['heartbeat'], { cwd: fleet.clones.build1, env })).exitCode).toBe(0);
  // A stale status.json whose daemon pid now belongs to an unrelated live process.
  const other = spawn('sleep', ['60'], { stdio: 'ignore' });
  procs.push(other);
  const c = path.join(fleet.dir, 'edit-status');
  gitSync(fleet.dir, ['clone', '-q', fleet.origin, c]);
  const file = path.join(c, 'build1/status.json');
  const st = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  st.daemon = { pid: other.pid, version: '0.1.0', started_at: '2026-11-30T10:00:00Z' };
  writeFileSync(file, JSON.stringify(st, null, 2) + '\n');
  gitSync(c, ['commit', '-qam', 'status naming a reused pid']);
  gitSync(c, ['push', '-q', 'origin', 'main']);

  const hb = await runCoordCli(['heartbeat'], { cwd: fleet.clones.build1, env });
  expect(hb.exitCode).toBe(0);
  expect(hb.stdout).not.toMatch(/daemon running/);
  const after = originJson(fleet.origin, 'build1/status.json') as { daemon: unknown; degraded: { reason: string } | null };
  expect(after.daemon).toBeNull();
  expect(after.degraded?.reason).toContain(DAEMON_NOT_RUNNING);
}, 60_000);
