/**
 * Bugs found by a fresh user: after SIGKILLing a `coord jobs add`, the next command waited
 * 10 s for the stale clone lock (.git/coord/clone.lock) without a word. It now says so on
 * stderr after about a second, and takes over at once (within proper-lockfile's 2 s
 * minimum staleness) a lock whose recorded holder is provably dead on this host.
 * And `coord status` showed builders that never ran as "shut down cleanly".
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withLocalLock } from '../../lib/tx/local-lock.js';
import { runCoordCli } from '../support/cli.js';
import { hermeticEnv, makeFleet, type Fleet } from '../support/git-fixture.js';

let fleet: Fleet;
beforeAll(async () => { fleet = await makeFleet(2); });
afterAll(() => fleet?.cleanup());

/** A pid that existed and is gone now. */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

/** Leaves the clone lock as a killed holder would: the lock folder and its owner record. */
function leaveLock(clone: string, owner: object): void {
  const dir = path.join(clone, '.git', 'coord');
  mkdirSync(path.join(dir, 'clone.lock'), { recursive: true });
  writeFileSync(path.join(dir, 'clone.owner'), JSON.stringify(owner) + '\n');
}

test('a clone lock left by a dead process: the next command says it waits, takes it over within 2 s, and works', async () => {
  const clone = fleet.clones.build1;
  leaveLock(clone, { pid: deadPid(), host: os.hostname(), since: '2026-12-01T00:00:00.000Z', command: 'bin/coord.js jobs add', procStart: null });
  const t0 = Date.now();
  const r = await runCoordCli(['jobs', 'add', '--type', 'noop'], { cwd: clone, env: hermeticEnv() });
  const took = Date.now() - t0;
  expect(r.exitCode).toBe(0);
  expect(r.stderr).toMatch(/waiting for the clone lock \S+clone\.lock \(held by pid \d+ on \S+ since 2026-12-01T00:00:00.000Z, bin\/coord.js jobs add; that process is gone: taking the lock over within 2 s\)/);
  expect(took).toBeLessThan(8000);
});

test('a clone lock held by a live process: one waiting line naming it and the staleness rule', async () => {
  const clone = fleet.clones.build2;
  const holder = execFileSync('sh', ['-c', 'sleep 30 >/dev/null 2>&1 & echo $!']).toString().trim();
  try {
    leaveLock(clone, { pid: Number(holder), host: os.hostname(), since: '2026-12-01T00:00:00.000Z', command: 'bin/coord.js daemon', procStart: null });
    const lines: string[] = [];
    const out = await withLocalLock(clone, () => Promise.resolve('ran'), { staleMs: 2000, onWait: (l) => lines.push(l) });
    expect(out).toBe('ran');
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^waiting for the clone lock \\S+ \\(held by pid ${holder} on \\S+ since 2026-12-01T00:00:00.000Z, bin/coord.js daemon; a lock of a dead process is taken over after 2 s\\)$`))]);
  } finally {
    process.kill(Number(holder), 'SIGKILL');
  }
});

test('coord status: a builder that never beat reads "never seen", not "shut down cleanly"', async () => {
  const r = await runCoordCli(['status'], { cwd: fleet.clones.build1, env: hermeticEnv() });
  expect(r.exitCode).toBe(0);
  expect(r.stdout).toMatch(/build2: never seen: no heartbeat yet/);
  expect(r.stdout).not.toMatch(/build2: shut down cleanly/);
});
