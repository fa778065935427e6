/**
 * Bug (third trial): after an outage the daemon left its queued status commits
 * (refs/coord/pending) unpushed until its next state change, and whoever pushed them later
 * (coord sync, a claim) made main show "degraded: remote unreachable" as current. Once the
 * remote is back the daemon now pushes the queue itself with its current status on top.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { renameSync } from 'node:fs';
import { gitSync, makeFleet, originJson, type Fleet } from '../support/git-fixture.js';
import { exited, seed, startDaemon, waitFor } from '../support/daemon-fixture.js';

let fleet: Fleet;
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
  fleet?.cleanup();
});

const pendingCount = (clone: string): number => {
  try {
    return Number(execFileSync('git', ['-C', clone, 'rev-list', '--count', 'refs/coord/pending', '--not', 'refs/remotes/origin/main'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return 0; // no pending ref
  }
};

test('after an outage the idle daemon pushes its queued status at once, with the current (not degraded) status on top', async () => {
  fleet = await makeFleet(1);
  seed(fleet, () => undefined); // main_heartbeat_every_s 3600: nothing else would write main
  const log: string[] = [];
  const d = startDaemon(procs, fleet.clones.build1, 'build1', log);
  await waitFor(() => (originJson(fleet.origin, 'build1/status.json') as { state: string }).state === 'idle', 30_000, 'first status');
  const away = `${fleet.origin}-away`;
  renameSync(fleet.origin, away);
  await waitFor(() => pendingCount(fleet.clones.build1) >= 1, 30_000, 'a status commit queued while the remote is away');
  await new Promise((r) => setTimeout(r, 3000)); // several polls while the remote is away
  renameSync(away, fleet.origin);
  await waitFor(() => pendingCount(fleet.clones.build1) === 0 && gitSync(fleet.origin, ['log', '-1', '--format=%s', 'main']).includes('builder.status'), 30_000, 'the queue to be pushed');
  const status = originJson(fleet.origin, 'build1/status.json') as { state: string; degraded: unknown };
  expect(status).toMatchObject({ state: 'idle', degraded: null });
  // The queued commit says what it recorded.
  expect(gitSync(fleet.origin, ['log', '--format=%s', 'main'])).toMatch(/builder\.status idle \(degraded: remote unreachable\)/);
  // Each degraded reason is logged once for the whole outage, not once per poll; recovery is said.
  await waitFor(() => log.some((l) => /no longer degraded/.test(l)), 30_000, 'the recovery line');
  expect(log.filter((l) => /degraded: remote unreachable/.test(l))).toHaveLength(1);
  expect(d.exitCode).toBeNull();
  d.kill('SIGTERM');
  await exited(d);
}, 120_000);
