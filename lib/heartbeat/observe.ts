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
 *
 * Time counts only while the observer could see the remote (METHODOLOGY.md section 5,
 * "Blind time"). When the remote is down for everyone, the holder cannot renew and the
 * observer cannot see that: a value unchanged across an outage proves nothing. So every look
 * at the remote is noted ({@link noteLook}); a failed look opens a blind span, the next good
 * look closes it, and judgements subtract the blind spans ({@link watchedElapsedMs}). The
 * spans are kept beside the first-seen times rather than shifting them, so that a command
 * which records sightings without knowing about blindness cannot undo the discount.
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

/** Observer wall-clock ms `[from, to]` during which this clone could not see the remote. */
export type BlindSpan = [from: number, to: number];

/** What this clone knows about its own looks at the remote (all observer wall-clock ms). */
export interface Sight {
  /** The last good look (fetch and read of main succeeded); null before the first one recorded. */
  last_ok: number | null;
  /** Start of the current blind span: set by a failed look, cleared by the next good one. */
  failed_since: number | null;
  /** Closed blind spans, oldest first, at most {@link MAX_BLIND_SPANS}; never counted as elapsed time. */
  blind: BlindSpan[];
}

export interface Observations {
  heartbeats: Record<string, SeenValue>;
  leases: Record<string, SeenValue>;
  /** Lock entries, key `lock:<name>`, value `token|expires_at` (lib/locks/model.ts). */
  locks: Record<string, SeenValue>;
  sight: Sight;
}

/** Closed blind spans kept; older ones only concern values unchanged across that many outages. */
export const MAX_BLIND_SPANS = 32;

/**
 * How far back a failed look is taken to have been blind when the last good look is older:
 * the longest one look can take (a fetch gives up after 60 s, lib/git/repo.ts) plus slack.
 * The time before it counts: nothing says the remote was down then.
 */
export const FAILED_LOOK_SPAN_MS = 120_000;

const noSight = (): Sight => ({ last_ok: null, failed_since: null, blind: [] });
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function sightOf(raw: unknown): Sight {
  if (!raw || typeof raw !== 'object') return noSight();
  const r = raw as Partial<Record<keyof Sight, unknown>>;
  const blind = Array.isArray(r.blind)
    ? r.blind.filter((b): b is BlindSpan => Array.isArray(b) && b.length === 2 && isNum(b[0]) && isNum(b[1]) && b[0] < b[1])
    : [];
  return { last_ok: isNum(r.last_ok) ? r.last_ok : null, failed_since: isNum(r.failed_since) ? r.failed_since : null, blind };
}

/**
 * Notes one look at the remote at `now` (pure). A failed look opens a blind span unless one
 * is open: from the last good look, or {@link FAILED_LOOK_SPAN_MS} before `now` when that
 * is older (or unknown). A good look closes the open span at `now` (merging overlaps) —
 * unless the failure was noted after `now` (another process's look, newer than this one).
 * @returns the new record (`sight` is not changed)
 */
export function noteLook(sight: Sight, ok: boolean, now: number): Sight {
  if (!ok) {
    if (sight.failed_since !== null) return sight;
    return { ...sight, failed_since: Math.max(sight.last_ok ?? -Infinity, now - FAILED_LOOK_SPAN_MS) };
  }
  const last_ok = Math.max(sight.last_ok ?? now, now);
  if (sight.failed_since === null || sight.failed_since > now) return { ...sight, last_ok };
  let blind = [...sight.blind];
  if (sight.failed_since < now) {
    const span: BlindSpan = [sight.failed_since, now];
    const kept: BlindSpan[] = [];
    for (const b of blind) {
      if (b[1] < span[0] || b[0] > span[1]) kept.push(b);
      else { span[0] = Math.min(span[0], b[0]); span[1] = Math.max(span[1], b[1]); }
    }
    blind = [...kept, span].sort((a, b) => a[0] - b[0]).slice(-MAX_BLIND_SPANS);
  }
  return { last_ok, failed_since: null, blind };
}

/** What a judgement needs of a {@link Sight}: the closed spans, and the open one if any. */
export type SightSpans = Pick<Sight, 'blind'> & Partial<Pick<Sight, 'failed_since'>>;

/** Milliseconds of `[since, now]` that fall in blind spans (the open one too, up to `now`). */
export function blindMsBetween(since: number, now: number, sight: SightSpans): number {
  const spans: BlindSpan[] = sight.failed_since != null ? [...sight.blind, [sight.failed_since, now]] : sight.blind;
  let ms = 0;
  for (const [from, to] of spans) ms += Math.max(0, Math.min(to, now) - Math.max(from, since));
  return ms;
}

/**
 * The observer's elapsed time since `since` that counts: `now - since` less what fell in
 * blind spans (never negative). This, not `now - since`, is what expiry is judged by.
 */
export function watchedElapsedMs(since: number, now: number, sight: SightSpans): number {
  return Math.max(0, now - since - blindMsBetween(since, now, sight));
}

export type Health = 'healthy' | 'stale' | 'offline' | 'grounded' | 'degraded' | 'unknown';

async function fileOf(repoRoot: string): Promise<string> {
  return path.join(await coordStateDir(repoRoot), 'observations.json');
}

export async function loadObservations(repoRoot: string): Promise<Observations> {
  try {
    const o = JSON.parse(await fs.readFile(await fileOf(repoRoot), 'utf8')) as Partial<Observations>;
    return { heartbeats: o.heartbeats ?? {}, leases: o.leases ?? {}, locks: o.locks ?? {}, sight: sightOf(o.sight) };
  } catch {
    return { heartbeats: {}, leases: {}, locks: {}, sight: noSight() };
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

/**
 * Is a lease expired? Both the holder's heartbeat and the lease field unchanged for ttl +
 * grace of watched time: time in `sight`'s blind spans does not count (METHODOLOGY.md
 * section 5). `sight` defaults to "never blind".
 */
export function leaseExpired(lease: SeenValue, holderHeartbeat: SeenValue | undefined, now: number, ttlS: number, graceS: number, sight: SightSpans = { blind: [] }): boolean {
  const lastChange = Math.max(lease.first_seen, holderHeartbeat?.first_seen ?? 0);
  return watchedElapsedMs(lastChange, now, sight) > (ttlS + graceS) * 1000;
}

/** The writer's time of a lease value: expiry minus ttl (when it was last renewed). */
export function leaseWriterTime(leaseExpiresAt: string | null | undefined, ttlS: number): number | null {
  const t = leaseExpiresAt ? parseTimestamp(leaseExpiresAt) : null;
  return t === null ? null : t - ttlS * 1000;
}

/** What one observer adds to the observations file (see {@link recordObservations}). */
export interface ObservationPatch {
  heartbeats?: Record<string, SeenValue>;
  leases?: Record<string, SeenValue>;
  /** Job ids to forget: jobs no longer running. */
  forgetLeases?: readonly string[];
  locks?: Record<string, SeenValue>;
  /** Lock keys (`lock:<name>`) to forget: locks no longer held. */
  forgetLocks?: readonly string[];
  /** A look at the remote to note ({@link noteLook}), applied to the file's own record. */
  look?: { ok: boolean; at: number };
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
    Object.assign(fresh.leases, patch.leases ?? {});
    for (const k of patch.forgetLeases ?? []) delete fresh.leases[k];
    Object.assign(fresh.locks, patch.locks ?? {});
    for (const k of patch.forgetLocks ?? []) delete fresh.locks[k];
    if (patch.look) fresh.sight = noteLook(fresh.sight, patch.look.ok, patch.look.at);
    await saveObservations(repoRoot, fresh);
  } catch {
    // Observations are an optimisation of judgement, never a reason to fail a command.
  }
}
