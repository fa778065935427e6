/**
 * Lock commands as transactions (DESIGN.md sections 3 and 6): each decision runs on the
 * remote's fresh `main`, judged by this observer's own record of when each lock entry last
 * changed; the holder's token is kept in `.git/coord/locks/<name>.json`.
 *
 * Refusals (held, not the holder, not found) come back as values; the command line turns
 * them into errors.
 *
 * Every step is a look at the remote for this clone's blind-time record (lib/heartbeat/
 * observe.ts, METHODOLOGY.md section 5): a transaction that fetched is a good look at the
 * moment it decided, one that could not reach the remote (E_UNREACHABLE, E_AUTH) a failed
 * one. Expiry is judged with the blind spans left out.
 */
import { isCoordError } from '../errors.js';
import { loadObservations, noteLook, recordObservations, type SeenValue, type Sight } from '../heartbeat/observe.js';
import type { RemoteSpec } from '../git/repo.js';
import type { LocksFile } from '../schemas/types.gen.js';
import { PATHS, schemaRefFor } from '../store/kinds.js';
import { runTransaction, type TxOutcome, type TxState } from '../tx/transaction.js';
import { newToken } from '../util/ids.js';
import { systemClock, type Clock } from '../util/time.js';
import {
  acquireLock, breakLock, lockObservationKey, lockObservationValue, observeLocks, releaseLock, renewLock,
  type LockEntry, type LockRefusal, type LockTransition,
} from './model.js';
import { readLockToken, removeLockToken, saveLockToken } from './token-store.js';

export interface LockOpOptions {
  repoRoot: string;
  /** Who acts: builder id or person (`locked_by`, `Coord-Actor`). */
  actor: string;
  remote?: RemoteSpec;
  clock?: Clock;
}

export type LockOpResult =
  | {
      status: 'committed' | 'noop'; commit: string | null; entry: LockEntry | null; previous: LockEntry | null;
      /** Observer wall-clock ms at which the decision was taken (written, to the second, into the entry). */
      now?: number;
      /** The same moment on this process's monotonic clock (Clock.monotonic). */
      decidedMono?: number;
    }
  | { status: 'refused'; refusal: LockRefusal };

/** An empty locks document (when the file is missing on main). */
export function emptyLocks(): LocksFile {
  return { $schema: schemaRefFor(PATHS.locks, 'locks.schema.json'), locks: {} };
}

const locksOf = (s: TxState) => (s.files.get(PATHS.locks) as LocksFile | null) ?? emptyLocks();

interface Step {
  action: string;
  summary: (t: Extract<LockTransition, { ok: true }>) => string;
  trailers: Record<string, string>;
  decide: (doc: LocksFile, state: TxState, now: number, table: Record<string, SeenValue>, sight: Sight) => LockTransition;
}

async function runLockStep(o: LockOpOptions, name: string, step: Step): Promise<LockOpResult> {
  const clock = o.clock ?? systemClock;
  const obs = await loadObservations(o.repoRoot);
  let table: Record<string, SeenValue> = {};
  let decidedAt = 0;
  let decidedMono = 0;
  let out: TxOutcome<Extract<LockTransition, { ok: true }>>;
  try {
    out = await runTransaction({
      repoRoot: o.repoRoot, actor: o.actor, action: step.action, paths: [PATHS.locks],
      ...(o.remote ? { remote: o.remote } : {}), ...(o.clock ? { clock: o.clock } : {}),
      mutate: (s, now) => {
        table = structuredClone(obs.locks);
        decidedAt = now;
        decidedMono = clock.monotonic();
        const doc = locksOf(s);
        // mutate runs only on a freshly fetched main: this is a good look at `now`.
        const t = step.decide(doc, s, now, table, noteLook(obs.sight, true, now));
        if (!t.ok) return { kind: 'refuse', refusal: t.refusal };
        if (t.doc === doc) return { kind: 'noop', result: t };
        return { kind: 'commit', writes: new Map([[PATHS.locks, t.doc]]), summary: step.summary(t), trailers: { Lock: name, ...step.trailers }, result: t };
      },
    });
  } catch (err) {
    // Could not see the remote: a failed look (the time until the next good one is blind).
    if (isCoordError(err, 'E_UNREACHABLE', 'E_AUTH')) await recordObservations(o.repoRoot, { look: { ok: false, at: clock.now() } });
    throw err;
  }
  const key = lockObservationKey(name);
  const look = { ok: true, at: decidedAt };
  if (out.status === 'refused') {
    await recordObservations(o.repoRoot, { locks: table, look });
    return { status: 'refused', refusal: out.refusal };
  }
  const t = out.result;
  // Our own write: we saw it change at the moment we decided it.
  if (t.entry) table[key] = { value: lockObservationValue(t.entry), first_seen: decidedAt, source: 'observed' };
  await recordObservations(o.repoRoot, { locks: table, look, ...(t.entry ? {} : { forgetLocks: [key] }) });
  return { status: out.status === 'committed' ? 'committed' : 'noop', commit: out.status === 'committed' ? out.commit : null, entry: t.entry, previous: t.previous, now: decidedAt, decidedMono };
}

/**
 * Acquires `name` for `ttlS` seconds (default `policy.lease_ttl_s`) when it is free or
 * expired; keeps the token locally.
 * @returns refused E_LOCK_HELD (holder and expiry in `details`) when held
 */
export async function acquireLockTx(o: LockOpOptions & { name: string; ttlS?: number; reason?: string }): Promise<LockOpResult> {
  const token = newToken();
  const r = await runLockStep(o, o.name, {
    action: 'lock.acquire',
    trailers: o.reason ? { Reason: o.reason } : {},
    summary: (t) => `${o.name} for ${t.entry?.ttl_s ?? '?'}s${t.previous ? ` (took over from ${t.previous.locked_by}: expired)` : ''}`,
    decide: (doc, s, now, table, sight) => acquireLock(doc, o.name, { actor: o.actor, token, ttlS: o.ttlS ?? s.policy.lease_ttl_s, now, ...(o.reason ? { reason: o.reason } : {}) }, observeLocks(table, doc, now, s.policy.clock_skew_s, sight)),
  });
  if (r.status === 'committed' && r.entry) {
    await saveLockToken(o.repoRoot, { name: o.name, token, holder: o.actor, acquired_at: r.entry.locked_at, ttl_s: r.entry.ttl_s ?? 0 });
  }
  return r;
}

/**
 * Renews `name` with the token this clone holds; `ttlS` defaults to the lock's own.
 * @returns refused E_NOT_HOLDER when this clone does not hold it (the stale token is forgotten)
 */
export async function renewLockTx(o: LockOpOptions & { name: string; ttlS?: number; token?: string }): Promise<LockOpResult> {
  const token = o.token ?? (await readLockToken(o.repoRoot, o.name, o.actor))?.token ?? null;
  const r = await runLockStep(o, o.name, {
    action: 'lock.renew',
    trailers: o.ttlS ? { Ttl: String(o.ttlS) } : {},
    summary: (t) => `${o.name} until ${t.entry?.expires_at ?? '?'}`,
    decide: (doc, _s, now) => renewLock(doc, o.name, token, now, o.ttlS),
  });
  if (r.status === 'refused' && r.refusal.code === 'E_NOT_HOLDER' && token) await removeLockToken(o.repoRoot, o.name, token);
  return r;
}

/**
 * Releases `name` with the token this clone holds. A lock nobody holds is a no-op.
 * @returns refused E_NOT_HOLDER when someone else holds it
 */
export async function releaseLockTx(o: LockOpOptions & { name: string; token?: string }): Promise<LockOpResult> {
  const token = o.token ?? (await readLockToken(o.repoRoot, o.name, o.actor))?.token ?? null;
  const r = await runLockStep(o, o.name, {
    action: 'lock.release',
    trailers: {},
    summary: () => o.name,
    decide: (doc) => releaseLock(doc, o.name, token),
  });
  if (r.status !== 'refused' && token) await removeLockToken(o.repoRoot, o.name, token);
  return r;
}

/**
 * Breaks `name` whoever holds it; `reason` is recorded in the commit (`Coord-Reason`).
 * @returns refused E_NOT_FOUND when nobody holds it
 */
export async function breakLockTx(o: LockOpOptions & { name: string; reason: string }): Promise<LockOpResult> {
  return runLockStep(o, o.name, {
    action: 'lock.break',
    trailers: { Reason: o.reason },
    summary: (t) => `${o.name} held by ${t.previous?.locked_by ?? '?'}`,
    decide: (doc) => breakLock(doc, o.name),
  });
}
