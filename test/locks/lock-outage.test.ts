/**
 * Bug (user trial, severity high): `coord lock run L2 --ttl 20 -- <loop>` through a 50 s
 * outage — another clone took the lock over 1 s after the remote returned while the
 * holder's command ran 5 s more: both held it at once; and the holder ran ~40 s past its own
 * TTL with every renewal failing. Now the holder stops its command once its lease has run out
 * locally without a renewal (exit 6), before anyone may take the lock over; and a clone that
 * could not see the remote does not count that time (METHODOLOGY.md sections 5 and 6).
 * Real git, real processes; the origin made unreachable by renaming it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { selfStopMarginMs } from '../../lib/locks/run.js';
import { COORD_BIN } from '../support/cli.js';
import { gitSync, makeFleet, originJson, type Fleet } from '../support/git-fixture.js';
import { coord, coordJson, editConfig } from '../support/operator.js';

const LOCKS = 'coordination/locks.json';
let fleet: Fleet;
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  fleet?.cleanup();
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const locksOnOrigin = () => (originJson(fleet.origin, LOCKS) as { locks: Record<string, { locked_by: string; token: string; expires_at: string }> }).locks;
const lockOnOrigin = (name: string) => {
  try {
    return locksOnOrigin()[name] ?? null;
  } catch {
    return null; // origin moved away on purpose
  }
};

/** `coord lock run NAME --ttl TTL -- <loop appending a line to ticksFile every 0.1 s>` in `clone`, running. */
async function holdWithLoop(clone: string, name: string, ttl: number, ticksFile: string) {
  const p = spawn(process.execPath, [COORD_BIN, 'lock', 'run', name, '--ttl', String(ttl), '--kill-after', '1', '--', 'sh', '-c', `while :; do echo tick >> '${ticksFile}'; sleep 0.1; done`], { cwd: clone, stdio: ['ignore', 'ignore', 'pipe'] });
  procs.push(p);
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  let exitedAt = 0;
  const exit = new Promise<number>((resolve) => p.on('close', (code, sig) => { exitedAt = Date.now(); resolve(code ?? (sig ? 128 : -1)); }));
  for (let i = 0; i < 150 && !lockOnOrigin(name); i++) await pause(100);
  expect(lockOnOrigin(name)?.locked_by).toBe('build1');
  for (let i = 0; i < 50 && !existsSync(ticksFile); i++) await pause(100);
  return { exit, stderr: () => stderr, exitedAt: () => exitedAt };
}

/** The command stopped: its file no longer grows. */
async function expectStopped(ticksFile: string): Promise<void> {
  const size = statSync(ticksFile).size;
  await pause(600);
  expect(statSync(ticksFile).size).toBe(size);
}

describe('selfStopMarginMs: how long before its lease runs out lock run stops CMD', () => {
  test.each([
    { ttlS: 3, marginS: 0.75 },
    { ttlS: 8, marginS: 2 },
    { ttlS: 20, marginS: 2 },
    { ttlS: 60, marginS: 6 },
    { ttlS: 300, marginS: 30 },
  ])('ttl $ttlS s → $marginS s', ({ ttlS, marginS }) => expect(selfStopMarginMs(ttlS * 1000)).toBe(marginS * 1000));
});

test('remote outage longer than the lease: lock run stops its command itself (exit 6), and a clone that could not see the remote does not take the lock over when it returns — only once it has watched the TTL', async () => {
  fleet = await makeFleet(2);
  const [b1, b2] = [fleet.clones.build1, fleet.clones.build2];
  await editConfig(b1, (cfg) => { cfg.policy.clock_skew_s = 0; });
  const ticks = path.join(fleet.dir, 'ticks-outage');
  // 12 s lease: renewals every 4 s; the command is stopped 10 s after the last one that landed.
  const held = await holdWithLoop(b1, 'L2', 12, ticks);
  // build2 sees the entry as it will stand through the outage (no renewal has landed yet).
  const seenByB2 = lockOnOrigin('L2');
  expect((await coord(b2, ['lock', 'list'])).exitCode).toBe(0);
  const away = `${fleet.origin}.away`;
  renameSync(fleet.origin, away);
  // build2 tries during the outage: exit 6, and it now knows it could not see.
  expect((await coord(b2, ['lock', 'acquire', 'L2'])).exitCode).toBe(6);

  const code = await held.exit;
  expect(code).toBe(6);
  expect(held.stderr()).toMatch(/lock L2 could not be renewed for \d+s \(.*unreachable.*\), so sh was stopped before its lease could run out/);
  expect(held.stderr()).toMatch(/lock L2 NOT released/);
  await expectStopped(ticks);

  // The outage outlasts the lease (counted from build2's sighting), then the remote returns.
  await pause(4000);
  renameSync(away, fleet.origin);
  expect(lockOnOrigin('L2')?.token).toBe(seenByB2?.token);
  expect(lockOnOrigin('L2')?.expires_at).toBe(seenByB2?.expires_at);
  const right = await coordJson(b2, ['lock', 'acquire', 'L2']);
  expect(right.r.exitCode).toBe(4);
  expect(right.doc.error.message).toMatch(/not counting \d+s when this clone could not reach the remote/);

  // The holder is gone: build2 takes the lock over once it has watched it unchanged for the TTL.
  let taken: Awaited<ReturnType<typeof coordJson>> | null = null;
  for (let i = 0; i < 60 && !taken; i++) {
    const r = await coordJson(b2, ['lock', 'acquire', 'L2', '--ttl', '1m']);
    if (r.r.exitCode === 0) taken = r;
    else await pause(500);
  }
  expect(taken?.doc).toMatchObject({ ok: true, lock: 'L2', holder: 'build2', took_over_from: 'build1' });
}, 90_000);

test('the holder cannot reach the remote while another clone can: its command has stopped before that clone takes the lock over', async () => {
  fleet = await makeFleet(2);
  const [b1, b2] = [fleet.clones.build1, fleet.clones.build2];
  await editConfig(b1, (cfg) => { cfg.policy.clock_skew_s = 0; });
  const ticks = path.join(fleet.dir, 'ticks-partition');
  const held = await holdWithLoop(b1, 'L3', 8, ticks);
  expect((await coord(b2, ['lock', 'list'])).exitCode).toBe(0);
  // Only build1's way to the remote breaks.
  gitSync(b1, ['remote', 'set-url', 'origin', `${fleet.origin}.nowhere`]);

  let takenAt = 0;
  let taken: Awaited<ReturnType<typeof coordJson>> | null = null;
  for (let i = 0; i < 80 && !taken; i++) {
    const r = await coordJson(b2, ['lock', 'acquire', 'L3', '--ttl', '1m']);
    if (r.r.exitCode === 0) { taken = r; takenAt = Date.now(); } else await pause(300);
  }
  expect(taken?.doc).toMatchObject({ ok: true, holder: 'build2', took_over_from: 'build1' });
  // By then the holder had stopped its command and exited, saying why.
  expect(held.exitedAt()).toBeGreaterThan(0);
  expect(held.exitedAt()).toBeLessThan(takenAt);
  expect(await held.exit).toBe(6);
  expect(held.stderr()).toMatch(/could not be renewed .*stopping the command/);
  await expectStopped(ticks);
  const lines = readFileSync(ticks, 'utf8').split('\n').filter(Boolean).length;
  expect(lines).toBeGreaterThan(0);
}, 90_000);
