/**
 * `coord sync --commit` findings:
 * - it recommended "--allow-removal for a deliberate clean-up" but had no such option (and
 *   ignored COORD_ALLOW_REMOVAL=1): both now let a deliberate removal commit; without them
 *   nothing changes;
 * - a file pushed invalid past the hooks could not be repaired ("on the remote is invalid;
 *   fix it by hand"): a fix made on top of the broken version now commits (still
 *   validated, compare-and-swap, record loss checked against the last valid version).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gitSync, useFleet, originJson } from '../support/git-fixture.js';
import { coord, originHead, queueJob } from '../support/operator.js';

const JOBS = 'coordination/jobs.json';
type Jobs = { jobs: { id: string }[] };

const fx = useFleet(2);

const readJobs = (clone: string) => JSON.parse(readFileSync(path.join(clone, JOBS), 'utf8')) as Jobs;
const writeJobs = (clone: string, doc: unknown) => writeFileSync(path.join(clone, JOBS), JSON.stringify(doc, null, 2) + '\n');
const originIds = () => (originJson(fx.fleet.origin, JOBS) as Jobs).jobs.map((j) => j.id);

describe('removing a job by hand', () => {
  test('refused without --allow-removal (nothing changes); commits with it; COORD_ALLOW_REMOVAL=1 too', async () => {
    const a = await queueJob(fx.b1, 'build1');
    const b = await queueJob(fx.b1, 'build1');
    expect((await coord(fx.b1, ['sync'])).exitCode).toBe(0);

    const doc = readJobs(fx.b1);
    writeJobs(fx.b1, { ...doc, jobs: doc.jobs.filter((j) => j.id !== a) });
    const head = originHead(fx.fleet.origin);
    const refused = await coord(fx.b1, ['sync', '--commit']);
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toContain('--allow-removal');
    expect(originHead(fx.fleet.origin)).toBe(head);
    expect(readJobs(fx.b1).jobs.map((j) => j.id)).not.toContain(a); // the edit is kept for another try

    expect((await coord(fx.b1, ['sync', '--allow-removal'])).exitCode).toBe(2); // needs --commit
    const ok = await coord(fx.b1, ['sync', '--commit', '--allow-removal']);
    expect(ok.exitCode).toBe(0);
    expect(originIds()).not.toContain(a);
    expect(originIds()).toContain(b);
    // The deliberate removal names what went: in the commit (for coord history) and the output.
    expect(gitSync(fx.fleet.origin, ['log', '-1', '--format=%B', 'main'])).toContain(`Coord-Removed: ${a}`);
    expect(ok.stderr).toContain(`removed without archiving (--allow-removal): ${a}`);

    const d2 = readJobs(fx.b1);
    writeJobs(fx.b1, { ...d2, jobs: d2.jobs.filter((j) => j.id !== b) });
    const env = await coord(fx.b1, ['sync', '--commit'], { env: { COORD_ALLOW_REMOVAL: '1' } });
    expect(env.exitCode).toBe(0);
    expect(originIds()).not.toContain(b);
  });
});

describe('repairing a file pushed invalid past the hooks', () => {
  test('refused with the steps when not at the broken version; refused on record loss; committed when fixed on top of it', async () => {
    const keep = await queueJob(fx.b2, 'build2');
    gitSync(fx.b2, ['pull', '-q', '--ff-only', 'origin', 'main']);
    const valid = readFileSync(path.join(fx.b2, JOBS), 'utf8');
    // build2 pushes a syntax error, bypassing every hook.
    writeFileSync(path.join(fx.b2, JOBS), valid.replace('"jobs": [', '"jobs": [,'));
    gitSync(fx.b2, ['commit', '-q', '--no-verify', '-am', 'oops']);
    gitSync(fx.b2, ['push', '-q', '--no-verify', 'origin', 'main']);
    const broken = originHead(fx.fleet.origin);

    // build1 edits on top of an older, valid version: refused with exact steps. (The edit
    // must change a record: one that changes none is only a warning, see sync-commit-checks.)
    const mine = readJobs(fx.b1);
    writeJobs(fx.b1, { ...mine, paused: { by: 'build1', at: '2026-01-01T00:00:00Z' } });
    const behind = await coord(fx.b1, ['sync', '--commit']);
    expect(behind.exitCode).toBe(3);
    expect(behind.stderr).toContain('run coord sync (fast-forward to the broken version), fix the file until coord validate passes, then coord sync --commit');
    expect(originHead(fx.fleet.origin)).toBe(broken);

    // The steps: drop the stale edit, fast-forward to the broken version, fix it.
    gitSync(fx.b1, ['checkout', '-q', '--', JOBS]);
    expect((await coord(fx.b1, ['sync'])).exitCode).toBe(0);
    expect(readFileSync(path.join(fx.b1, JOBS), 'utf8')).toContain('"jobs": [,');
    expect((await coord(fx.b1, ['validate'])).exitCode).toBe(3);

    // A "fix" that drops a record of the last valid version is refused like any record loss.
    const fixed = JSON.parse(valid) as Jobs;
    writeJobs(fx.b1, { ...fixed, jobs: [] });
    const lossy = await coord(fx.b1, ['sync', '--commit']);
    expect(lossy.exitCode).toBe(3);
    expect(lossy.stderr).toContain(keep);
    expect(lossy.stderr).toContain('last valid version');
    expect(originHead(fx.fleet.origin)).toBe(broken);

    writeJobs(fx.b1, fixed);
    expect((await coord(fx.b1, ['validate'])).exitCode).toBe(0);
    const ok = await coord(fx.b1, ['sync', '--commit']);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain(`repaired ${JOBS}`);
    expect(originIds()).toContain(keep);
    expect(gitSync(fx.b1, ['rev-parse', 'HEAD'])).toBe(originHead(fx.fleet.origin));
    expect(gitSync(fx.b1, ['status', '--porcelain', '--', 'coordination'])).toBe('');
    // The fleet works again: build2 can queue through a transaction.
    await queueJob(fx.b2, 'build2');
  });
});
