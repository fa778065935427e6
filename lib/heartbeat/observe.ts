/**
 * Judging liveness without trusting other machines' clocks (DESIGN.md section 5).
 *
 * An observer remembers, in `.git/coord/observations.json`, when it first saw each
 * builder's current heartbeat commit and each running job's current lease value, by its
 * own clock. A builder is stale after 3 heartbeat intervals without a change seen, offline
 * after 10 (or at once after a clean shutdown). A lease is expired when the holder's
 * heartbeat and the job's lease field have both stopped changing for the lease time (the
 * rule of Kubernetes Lease objects). The first time an observer sees a value it has no
 * history for, it estimates the age from the writer's timestamp (clamped to ≥ 0), and says
 * so (`source: 'timestamp'`).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { coordStateDir } from '../git/repo.js';
import { parseTimestamp } from '../util/time.js';

export interface SeenValue {
  /** The value observed (a heartbeat commit, or `attempt|lease_expires_at`). */
  value: string;
  /** Observer's wall-clock ms when this value was first seen (or estimated). */
  first_seen: number;
  source: 'observed' | 'timestamp';
}

export interface Observations {
  heartbeats: Record<string, SeenValue>;
  leases: Record<string, SeenValue>;
  /** Lock entries, key `lock:<name>`, value `token|expires_at` (lib/locks/model.ts). */
  locks: Record<string, SeenValue>;
}

export type Health = 'healthy' | 'stale' | 'offline' | 'grounded' | 'degraded' | 'unknown';

async function fileOf(repoRoot: string): Promise<string> {
  return path.join(await coordStateDir(repoRoot), 'observations.json');
}

export async function loadObservations(repoRoot: string): Promise<Observations> {
  try {
    const o = JSON.parse(await fs.readFile(await fileOf(repoRoot), 'utf8')) as Partial<Observations>;
    return { heartbeats: o.heartbeats ?? {}, leases: o.leases ?? {}, locks: o.locks ?? {} };
  } catch {
    return { heartbeats: {}, leases: {}, locks: {} };
  }
}

export async function saveObservations(repoRoot: string, o: Observations): Promise<void> {
  const f = await fileOf(repoRoot);
  const tmp = `${f}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(o) + '\n');
  await fs.rename(tmp, f);
}

/**
 * Records that `value` is current for `key`; keeps the first-seen time while it stays the
 * same. `writerTime` (ms, the writer's own clock) seeds the estimate for a value never seen.
 * @returns the entry now in force
 */
export function observe(table: Record<string, SeenValue>, key: string, value: string, now: number, writerTime: number | null): SeenValue {
  const prev = table[key];
  if (prev && prev.value === value) return prev;
  const firstEver = prev === undefined;
  const entry: SeenValue = firstEver && writerTime !== null
    ? { value, first_seen: Math.min(now, writerTime), source: 'timestamp' }
    : { value, first_seen: now, source: 'observed' };
  table[key] = entry;
  return entry;
}

/** Heartbeat health from the observer's elapsed time since the heartbeat last changed. */
export function heartbeatHealth(ageMs: number, intervalS: number, cleanShutdown: boolean): 'healthy' | 'stale' | 'offline' {
  if (cleanShutdown) return 'offline';
  if (ageMs > 10 * intervalS * 1000) return 'offline';
  if (ageMs > 3 * intervalS * 1000) return 'stale';
  return 'healthy';
}

/** Is a lease expired? Both the holder's heartbeat and the lease field unchanged for ttl + grace. */
export function leaseExpired(lease: SeenValue, holderHeartbeat: SeenValue | undefined, now: number, ttlS: number, graceS: number): boolean {
  const lastChange = Math.max(lease.first_seen, holderHeartbeat?.first_seen ?? 0);
  return now - lastChange > (ttlS + graceS) * 1000;
}

/** The writer's time of a lease value: expiry minus ttl (when it was last renewed). */
export function leaseWriterTime(leaseExpiresAt: string | null | undefined, ttlS: number): number | null {
  const t = leaseExpiresAt ? parseTimestamp(leaseExpiresAt) : null;
  return t === null ? null : t - ttlS * 1000;
}

/** What one observer adds to the observations file (see {@link recordObservations}). */
export interface ObservationPatch {
  heartbeats?: Record<string, SeenValue>;
  locks?: Record<string, SeenValue>;
  /** Lock keys (`lock:<name>`) to forget: locks no longer held. */
  forgetLocks?: readonly string[];
}

/**
 * Merges `patch` into the observations file without losing what another process on this
 * clone (the daemon, another command) saved meanwhile: re-read just before writing and put
 * our entries over it. Observations estimate "when did this value first appear", so a lost
 * race costs at most one re-estimate. Best effort: a read-only `.git` is ignored.
 */
export async function recordObservations(repoRoot: string, patch: ObservationPatch): Promise<void> {
  try {
    const fresh = await loadObservations(repoRoot);
    Object.assign(fresh.heartbeats, patch.heartbeats ?? {});
    Object.assign(fresh.locks, patch.locks ?? {});
    for (const k of patch.forgetLocks ?? []) delete fresh.locks[k];
    await saveObservations(repoRoot, fresh);
  } catch {
    // Observations are an optimisation of judgement, never a reason to fail a command.
  }
}
