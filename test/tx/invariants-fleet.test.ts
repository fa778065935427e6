/**
 * Transaction invariants that need the whole fleet (issue 3): the offline queue of
 * builder-owned commits, and N processes × M transactions with `coord validate` passing
 * at every commit of main's history. Real git, real processes (test/support/tx-worker.mjs
 * runs the compiled engine from dist/), no mocks.
 */
import { execFile } from 'node:child_process';
import { renameSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CoordError } from '../../lib/errors.js';
import { runTransaction, type TxState } from '../../lib/tx/transaction.js';
import { PENDING_REF } from '../../lib/tx/pending.js';
import { gitSync, hermeticEnv, makeFleet, originJson, ROOT, type Fleet } from '../support/git-fixture.js';
import { appendMessage, bumpStatus, MESSAGES, messageIds, validateHistory } from '../support/tx-scenario.js';

const run = promisify(execFile);
let fleet: Fleet;
afterEach(() => fleet?.cleanup());

function bump(repoRoot: string, summary: string, before?: () => void) {
  const mutate = bumpStatus('build1', summary);
  return runTransaction({
    repoRoot, actor: 'build1', action: 'status.update', paths: ['build1/status.json'], builderOwned: true,
    mutate: (state: TxState, now: number) => { before?.(); return mutate(state, now); },
  });
}

function append(repoRoot: string, id: string, actor = 'build1', before?: () => void) {
  const mutate = appendMessage(id, actor);
  return runTransaction({
    repoRoot, actor, action: 'test.append', paths: [MESSAGES],
    mutate: (state: TxState, now: number) => { before?.(); return mutate(state, now); },
  });
}

/** Runs `fn` once only, however often the engine re-runs the mutation. */
function once(fn: () => void): () => void {
  let done = false;
  return () => { if (!done) { done = true; fn(); } };
}

const subjects = (repo: string, ref: string, n: number) => gitSync(repo, ['log', '--format=%s', `-${n}`, '--reverse', ref]).split('\n');
const refOrNull = (repo: string, ref: string) => { try { return gitSync(repo, ['rev-parse', '--verify', '-q', ref]); } catch { return null; } };

test('remote unreachable mid-run: builder-owned commits queue and arrive in order; shared-state changes fail (exit 6) leaving nothing half-done', async () => {
  fleet = await makeFleet(2);
  const c = fleet.clones.build1;
  const away = `${fleet.origin}.away`;
  const cut = () => renameSync(fleet.origin, away);
  const restore = () => renameSync(away, fleet.origin);

  // The remote vanishes between this transaction's fetch and its push.
  const first = await bump(c, 'offline 1', once(cut));
  expect(first).toMatchObject({ status: 'queued', queued: true, result: 1 });
  expect(await bump(c, 'offline 2')).toMatchObject({ status: 'queued', result: 2 });
  expect(await bump(c, 'offline 3')).toMatchObject({ status: 'queued', result: 3 });
  expect(subjects(c, PENDING_REF, 3)).toEqual(['offline 1', 'offline 2', 'offline 3'].map((s) => `coord(build1): status.update ${s}`));

  const refs = gitSync(c, ['for-each-ref', '--format=%(refname) %(objectname)']);
  const originRefs = gitSync(away, ['for-each-ref', '--format=%(refname) %(objectname)']);
  const err = await append(c, 'm-offline').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CoordError);
  expect(err).toMatchObject({ code: 'E_UNREACHABLE', exitCode: 6 });
  expect((err as CoordError).message).toMatch(/remote origin unreachable/);

  // Back, and unreachable again in the middle of a shared-state transaction (after the
  // queued commits were replayed for its push): still nothing half-done.
  restore();
  const midRun = await append(c, 'm-midrun', 'build1', once(cut)).catch((e: unknown) => e);
  expect(midRun).toMatchObject({ code: 'E_UNREACHABLE', exitCode: 6 });
  expect(gitSync(c, ['for-each-ref', '--format=%(refname) %(objectname)'])).toBe(refs);
  expect(gitSync(away, ['for-each-ref', '--format=%(refname) %(objectname)'])).toBe(originRefs);
  expect(gitSync(c, ['status', '--porcelain=v1', '--untracked-files=no'])).toBe('');

  // The remote returns; another builder moves main first, so the queue is replayed onto it.
  restore();
  expect((await append(fleet.clones.build2, 'from-build2', 'build2')).status).toBe('committed');
  const next = await append(c, 'back');
  expect(next.status).toBe('committed');
  expect(subjects(fleet.origin, 'main', 5)).toEqual([
    'coord(build2): test.append from-build2',
    'coord(build1): status.update offline 1',
    'coord(build1): status.update offline 2',
    'coord(build1): status.update offline 3',
    'coord(build1): test.append back',
  ]);
  expect(refOrNull(c, PENDING_REF)).toBeNull();
  expect(messageIds(fleet.origin)).toEqual(['from-build2', 'back']);
  expect(originJson(fleet.origin, 'build1/status.json')).toMatchObject({ builder: 'build1', consecutive_failures: 3 });
  expect((await validateHistory(fleet.origin)).problems).toEqual([]);
});

test('bug: the first builder-owned transaction after an outage read main without its queued commits and overwrote them', async () => {
  fleet = await makeFleet(2);
  const c = fleet.clones.build1;
  const away = `${fleet.origin}.away`;
  renameSync(fleet.origin, away);
  expect(await bump(c, 'offline 1')).toMatchObject({ status: 'queued', result: 1 });
  expect(await bump(c, 'offline 2')).toMatchObject({ status: 'queued', result: 2 });
  renameSync(away, fleet.origin);
  // The mutation must see the state its commit lands on: main plus the replayed queue.
  expect(await bump(c, 'online 3')).toMatchObject({ status: 'committed', result: 3 });
  expect(originJson(fleet.origin, 'build1/status.json')).toMatchObject({ consecutive_failures: 3 });
  expect(subjects(fleet.origin, 'main', 3)).toEqual(['offline 1', 'offline 2', 'online 3'].map((s) => `coord(build1): status.update ${s}`));
  expect(refOrNull(c, PENDING_REF)).toBeNull();
});

test('N processes x M transactions: every record once, and coord validate passes at every commit of main', async () => {
  const N = 4, M = 25;
  // Four writer processes: three clones, and a fourth process sharing build1's clone (the
  // local lock serialises those two).
  fleet = await makeFleet(4, { clones: ['build1', 'build2', 'build3'] });
  const worker = path.join(ROOT, 'test/support/tx-worker.mjs');
  const writers = [...['build1', 'build2', 'build3'].map((b) => [fleet.clones[b], b]), [fleet.clones.build1, 'build4']];
  const results = await Promise.all(writers.map(([repo, actor]) => run('node', [worker, repo, actor, String(M)], { env: hermeticEnv() })));
  const reports = results.map((r) => JSON.parse(r.stdout) as { actor: string; count: number; retries: number });
  expect(reports.map((r) => r.count)).toEqual(Array(N).fill(M));

  const ids = messageIds(fleet.origin);
  expect(ids).toHaveLength(N * M);
  expect(new Set(ids).size).toBe(N * M);
  for (const [, actor] of writers) {
    // Each writer's own records arrive in the order it wrote them.
    const own = ids.filter((id) => id.startsWith(`msg-${actor}-`));
    expect(own).toEqual(Array.from({ length: M }, (_, i) => `msg-${actor}-${i}`));
  }
  const history = await validateHistory(fleet.origin);
  expect(history.problems).toEqual([]);
  expect(history.commits).toBe(N * M + 1);
}, 120_000);
