/**
 * Findings on the jobs/history command line, each pinned by the input that broke:
 * - `coord --builder build2 jobs list` was taken as the list's filter, not the identity
 *   (same for `history --builder`): the filters are now `--assigned-to` and `--about`;
 * - `jobs add --timeout 5` without `--wait` was silently ignored;
 * - `id=$(coord jobs add … --wait)` got the wait line, not the id;
 * - `jobs wait` against an unreachable remote timed out with exit 4 and no word why;
 * - usage errors pointed at `coord --help` rather than the command's help;
 * - `init --builders abc` said "--builders NaN".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cloneFor, gitSync, makeFleet, type Fleet } from '../support/git-fixture.js';
import { coord, coordJson, originHead, queueJob, runJobAs } from '../support/operator.js';
import { fingerprintTree } from '../support/tree.js';

let fleet: Fleet;
let b1: string, b2: string;
let ranOn2: string;
beforeAll(async () => {
  fleet = await makeFleet(2);
  b1 = fleet.clones.build1!;
  b2 = fleet.clones.build2!;
  ranOn2 = await queueJob(b1, 'build1');
  await runJobAs(b2, 'build2', ranOn2, 'completed');
  await queueJob(b1, 'build1');
});
afterAll(() => fleet?.cleanup());

test('global --builder is the identity for jobs list and history; --assigned-to / --about filter', async () => {
  const all = await coordJson(b1, ['--builder', 'build2', 'jobs', 'list']);
  expect(all.r.exitCode).toBe(0);
  expect(all.doc.total).toBe(2);
  const only2 = await coordJson(b1, ['jobs', 'list', '--assigned-to', '2']);
  expect(only2.doc.jobs.map((j: { id: string }) => j.id)).toEqual([ranOn2]);
  const hist = await coordJson(b1, ['--builder', 'build2', 'history', '--about', 'build2']);
  expect(hist.r.exitCode).toBe(0);
  expect(hist.doc.entries.length).toBeGreaterThan(0);
  expect(hist.doc.entries.every((e: { actor: string }) => e.actor === 'build2')).toBe(true);
});

test('jobs add --timeout without --wait: exit 2 naming both, nothing queued', async () => {
  const before = originHead(fleet.origin);
  const r = await coord(b1, ['jobs', 'add', '--type', 'noop', '--timeout', '5']);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain('--timeout needs --wait');
  expect(originHead(fleet.origin)).toBe(before);
});

test('jobs add --wait prints the id first on stdout (progress on stderr)', async () => {
  const r = await coord(b1, ['jobs', 'add', '--type', 'noop', '--wait', '--timeout', '1', '--interval', '1']);
  expect(r.exitCode).toBe(4); // nobody runs it: timed out
  const first = r.stdout.split('\n')[0];
  expect(first).toMatch(/^job-\d{8}-\d{6}-build1-[0-9a-f]{12}$/);
  expect(r.stderr).toContain(`queued ${first}`);
});

test('jobs wait with the remote never reachable: exit 6 saying so', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coord-wait-'));
  try {
    const c = cloneFor(dir, fleet.origin, 'build1');
    gitSync(c, ['remote', 'set-url', 'origin', path.join(dir, 'gone.git')]);
    const r = await coord(c, ['jobs', 'wait', ranOn2.slice(0, -2), '--timeout', '1', '--interval', '1']);
    // The job completed as far as the last fetch knows: exit 0, with a warning that it is stale.
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('could not be fetched');
    const queued = (await coordJson(b1, ['jobs', 'list', '--status', 'queued'])).doc.jobs[0].id as string;
    gitSync(c, ['remote', 'set-url', 'origin', fleet.origin]);
    gitSync(c, ['fetch', '-q', 'origin']);
    gitSync(c, ['remote', 'set-url', 'origin', path.join(dir, 'gone.git')]);
    const w = await coord(c, ['jobs', 'wait', queued, '--timeout', '1', '--interval', '1']);
    expect(w.exitCode).toBe(6);
    expect(w.stderr).toContain('the remote could not be fetched at any poll');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage errors point at the command\'s own help', async () => {
  const r = await coord(b1, ['jobs', 'list', '--no-such-option']);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain('Run coord jobs list --help for usage.');
});

test('init --builders abc: exit 2 saying what is wrong, nothing written', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coord-init-'));
  try {
    const before = await fingerprintTree(dir);
    const r = await coord(dir, ['init', '--builders', 'abc']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--builders must be a whole number ≥ 1, got abc');
    expect(await fingerprintTree(dir)).toEqual(before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('jobs list --assigned-to: an empty or malformed builder is a usage error; an unconfigured one no job names is not found', async () => {
  for (const bad of ['', 'abc', '0', 'build02x', 'build2,build1']) {
    const r = await coord(b1, ['jobs', 'list', '--assigned-to', bad]);
    expect([bad, r.exitCode]).toEqual([bad, 2]);
    expect(r.stderr).toMatch(/--assigned-to .*not a builder name \(build2, or 2\)/);
  }
  // Third trial: like builder ground build9 (a builder removed from the config but named by
  // jobs still lists them with a warning: test/ops/third-trial-cli.test.ts).
  const unknown = await coord(b1, ['jobs', 'list', '--assigned-to', 'build9']);
  expect(unknown.exitCode).toBe(5);
  expect(unknown.stderr).toMatch(/--assigned-to build9: build9 is not a configured builder \(shared\/build_config\.json has build1, build2\)/);
});
