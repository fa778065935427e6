/**
 * `coord lock …` against a bare origin and two clones, with the real command line
 * (issue 6): racing acquires, holder-only release, break with a recorded reason, takeover of
 * an expired lock, and `lock run` — exit code, renewals, SIGTERM, a missing command.
 */
import { spawn } from 'node:child_process';
import { COORD_BIN } from '../support/cli.js';
import { gitSync, makeFleet, originJson, type Fleet } from '../support/git-fixture.js';
import { coord, coordJson, editConfig, expectReadmeShape, originHead } from '../support/operator.js';

const LOCKS = 'coordination/locks.json';
let fleet: Fleet;
let b1: string, b2: string;
const locksOnOrigin = () => (originJson(fleet.origin, LOCKS) as { locks: Record<string, { locked_by: string; token: string; ttl_s?: number }> }).locks;

beforeAll(async () => {
  fleet = await makeFleet(2);
  b1 = fleet.clones.build1!;
  b2 = fleet.clones.build2!;
  // Observers here see every change themselves; no clock-skew allowance is needed for the
  // first sighting of a lock (it makes the expiry test fast).
  await editConfig(b1, (cfg) => { cfg.policy.clock_skew_s = 0; });
});
afterAll(() => fleet?.cleanup());

test('two builders acquire the same lock at the same instant: exactly one wins, the other exits 4 naming holder and expiry', async () => {
  const [r1, r2] = await Promise.all([coord(b1, ['lock', 'acquire', 'race', '--ttl', '5m']), coord(b2, ['lock', 'acquire', 'race', '--ttl', '5m'])]);
  const codes = [r1.exitCode, r2.exitCode].sort();
  expect(codes).toEqual([0, 4]);
  const winner = r1.exitCode === 0 ? 'build1' : 'build2';
  const loser = r1.exitCode === 0 ? r2 : r1;
  expect(loser.stderr).toMatch(new RegExp(`lock race is held by ${winner} since \\S+Z.*expires at \\S+Z \\(in about`));
  expect(locksOnOrigin().race?.locked_by).toBe(winner);
  // The winner releases with the token its clone kept.
  const rel = await coord(winner === 'build1' ? b1 : b2, ['lock', 'release', 'race']);
  expect(rel.exitCode).toBe(0);
  expect(locksOnOrigin().race).toBeUndefined();
});

test('acquire / renew / list / release with --json, each document as in README', async () => {
  const a = await coordJson(b1, ['lock', 'acquire', 'deploy', '--ttl', '10m', '--reason', 'release 2.3']);
  expect(a.r.exitCode).toBe(0);
  expect(a.doc).toMatchObject({ ok: true, lock: 'deploy', holder: 'build1', ttl_s: 600, took_over_from: null });
  expectReadmeShape('coord lock acquire', a.doc);

  const held = await coordJson(b2, ['lock', 'acquire', 'deploy']);
  expect(held.r.exitCode).toBe(4);
  expect(held.doc).toMatchObject({ ok: false, error: { code: 'E_LOCK_HELD', exit_code: 4, details: { lock: 'deploy', holder: 'build1', reason: 'release 2.3' } } });

  const renew = await coordJson(b1, ['lock', 'renew', 'deploy', '--ttl', '20m']);
  expect(renew.r.exitCode).toBe(0);
  expect(renew.doc).toMatchObject({ ok: true, lock: 'deploy', ttl_s: 1200 });
  expectReadmeShape('coord lock renew', renew.doc);

  const list = await coordJson(b2, ['lock', 'list']);
  expect(list.doc.locks).toEqual([expect.objectContaining({ name: 'deploy', holder: 'build1', expired: false, reason: 'release 2.3' })]);
  expect(list.doc.locks[0].expires_in_s).toBeGreaterThan(1000);
  expectReadmeShape('coord lock list', list.doc);

  const rel = await coordJson(b1, ['lock', 'release', 'deploy']);
  expect(rel.doc).toMatchObject({ ok: true, lock: 'deploy', released: true });
  expectReadmeShape('coord lock release', rel.doc);
  // Releasing again is a no-op, not an error (release is idempotent).
  const again = await coordJson(b1, ['lock', 'release', 'deploy']);
  expect(again.r.exitCode).toBe(0);
  expect(again.doc.released).toBe(false);
});

test('release and renew by a builder that does not hold the lock: exit 4, nothing written', async () => {
  expect((await coord(b1, ['lock', 'acquire', 'mine', '--ttl', '5m'])).exitCode).toBe(0);
  const before = originHead(fleet.origin);
  const rel = await coord(b2, ['lock', 'release', 'mine']);
  expect(rel.exitCode).toBe(4);
  expect(rel.stderr).toMatch(/cannot release lock mine: it is held by build1/);
  const renew = await coord(b2, ['lock', 'renew', 'mine']);
  expect(renew.exitCode).toBe(4);
  const json = await coordJson(b2, ['lock', 'release', 'mine']);
  expect(json.doc.error).toMatchObject({ code: 'E_NOT_HOLDER', exit_code: 4 });
  expect(originHead(fleet.origin)).toBe(before);
  expect(locksOnOrigin().mine?.locked_by).toBe('build1');
});

test('break removes a lock whoever holds it and records the reason in the commit', async () => {
  const r = await coordJson(b2, ['lock', 'break', 'mine', '--reason', 'build1 is being reinstalled']);
  expect(r.r.exitCode).toBe(0);
  expect(r.doc).toMatchObject({ ok: true, lock: 'mine', was_held_by: 'build1', reason: 'build1 is being reinstalled' });
  expectReadmeShape('coord lock break', r.doc);
  expect(locksOnOrigin().mine).toBeUndefined();
  const msg = gitSync(fleet.origin, ['log', '-1', '--format=%B', 'main']);
  expect(msg).toMatch(/^coord\(build2\): lock\.break mine held by build1/);
  expect(msg).toContain('Coord-Reason: build1 is being reinstalled');
  // The old holder's token is now worthless.
  expect((await coord(b1, ['lock', 'renew', 'mine'])).exitCode).toBe(4);
  // Breaking a free lock: not found (5); without --reason: usage (2).
  expect((await coord(b2, ['lock', 'break', 'mine', '--reason', 'x'])).exitCode).toBe(5);
  expect((await coord(b2, ['lock', 'break', 'mine'])).exitCode).toBe(2);
});

test('an expired lock (unchanged for its TTL by the observer\'s clock) is taken over', async () => {
  expect((await coord(b1, ['lock', 'acquire', 'short', '--ttl', '1'])).exitCode).toBe(0);
  await new Promise((r) => setTimeout(r, 1500));
  const r = await coordJson(b2, ['lock', 'acquire', 'short', '--ttl', '1m']);
  expect(r.r.exitCode).toBe(0);
  expect(r.doc.took_over_from).toBe('build1');
  expect(locksOnOrigin().short?.locked_by).toBe('build2');
  expect(gitSync(fleet.origin, ['log', '-1', '--format=%s', 'main'])).toMatch(/took over from build1: expired/);
  expect((await coord(b2, ['lock', 'release', 'short'])).exitCode).toBe(0);
});

test('lock run: exits with the command\'s code, renews at a third of the TTL, releases at the end', async () => {
  const r = await coordJson(b1, ['lock', 'run', 'job-lock', '--ttl', '3', '--', 'sh', '-c', 'echo "in $COORD_LOCK"; sleep 2.3; exit 7']);
  expect(r.r.exitCode).toBe(7);
  expect(r.r.stderr).toContain('in job-lock'); // with --json the command's stdout goes to stderr
  expect(r.doc).toMatchObject({ ok: false, lock: 'job-lock', exit_code: 7, released: true });
  expect(r.doc.renewals).toBeGreaterThanOrEqual(1);
  expectReadmeShape('coord lock run', r.doc);
  expect(locksOnOrigin()['job-lock']).toBeUndefined();
  const log = gitSync(fleet.origin, ['log', '--format=%s', '-6', 'main']).split('\n');
  expect(log[0]).toMatch(/lock\.release job-lock/);
  expect(log.some((l) => /lock\.renew job-lock/.test(l))).toBe(true);
});

test('lock run whose command does not exist: exit 127, a clear message, the lock released', async () => {
  const j = await coordJson(b1, ['lock', 'run', 'nocmd', '--', 'no-such-command-xyz', '--flag']);
  expect(j.r.exitCode).toBe(127);
  expect(j.doc.error).toMatchObject({ code: 'E_COMMAND_NOT_FOUND', exit_code: 127, details: { lock: 'nocmd', released: true } });
  expect(j.doc.error.message).toMatch(/command not found: no-such-command-xyz \(lock nocmd released\)/);
  expect(locksOnOrigin().nocmd).toBeUndefined();
  // It was held while the command was being started: acquire and release are both on main.
  expect(gitSync(fleet.origin, ['log', '--format=%s', '-2', 'main']).split('\n')).toEqual([
    expect.stringMatching(/lock\.release nocmd/), expect.stringMatching(/lock\.acquire nocmd/),
  ]);
});

test('lock run killed with SIGTERM forwards it, releases the lock on the origin, exits 143', async () => {
  const child = spawn(process.execPath, [COORD_BIN, 'lock', 'run', 'held', '--ttl', '30', '--', 'sleep', '30'], { cwd: b1, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number>((resolve) => child.on('close', (code, sig) => resolve(code ?? (sig ? 128 : -1))));
  // Wait until the lock is on the origin (the command runs from then on).
  for (let i = 0; i < 100 && !locksOnOrigin().held; i++) await new Promise((r) => setTimeout(r, 100));
  expect(locksOnOrigin().held?.locked_by).toBe('build1');
  child.kill('SIGTERM');
  expect(await exited).toBe(143);
  expect(err).toMatch(/SIGTERM received/);
  expect(locksOnOrigin().held).toBeUndefined();
});

test('lock run while another builder holds the lock: exit 4 at once, or --wait until it is free', async () => {
  expect((await coord(b2, ['lock', 'acquire', 'busy', '--ttl', '5m'])).exitCode).toBe(0);
  const before = originHead(fleet.origin);
  const r = await coord(b1, ['lock', 'run', 'busy', '--', 'true']);
  expect(r.exitCode).toBe(4);
  expect(r.stderr).toMatch(/lock busy is held by build2/);
  expect(originHead(fleet.origin)).toBe(before);
  const waiting = coord(b1, ['lock', 'run', 'busy', '--wait', '20', '--', 'true']);
  await new Promise((r) => setTimeout(r, 800));
  expect((await coord(b2, ['lock', 'release', 'busy'])).exitCode).toBe(0);
  const w = await waiting;
  expect(w.exitCode).toBe(0);
  expect(w.stderr).toMatch(/waiting up to 20s/);
  expect(locksOnOrigin().busy).toBeUndefined();
});

test.each([
  { name: 'a bad lock name', args: ['lock', 'acquire', 'bad/name'], code: 2 },
  { name: 'a TTL of 0', args: ['lock', 'acquire', 'x', '--ttl', '0'], code: 2 },
  { name: 'a TTL that is not a duration', args: ['lock', 'acquire', 'x', '--ttl', 'soon'], code: 2 },
  { name: 'lock run without a command', args: ['lock', 'run', 'x'], code: 2 },
])('bad input: $name → exit $code, nothing written', async ({ args, code }) => {
  const before = originHead(fleet.origin);
  const r = await coordJson(b1, args);
  expect(r.r.exitCode).toBe(code);
  expect(r.doc.ok).toBe(false);
  expect(r.doc.error.exit_code).toBe(code);
  expect(originHead(fleet.origin)).toBe(before);
});
