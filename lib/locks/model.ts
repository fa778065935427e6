/**
 * Named leases — the mutex of the fleet (DESIGN.md section 6). Pure transitions on
 * `coordination/locks.json`: acquire (free or expired), renew and release (only with the
 * holder's token), break (anyone, for a person; the reason goes into the commit).
 *
 * Expiry is judged as in section 5, by the observer's own elapsed time since the lock entry
 * last changed: an observer remembers when it first saw each entry's value
 * (`token|expires_at`, key `lock:<name>`, in `.git/coord/observations.json`), so a fast or
 * slow clock elsewhere can neither steal a live lock nor keep a dead one forever. A value
 * never seen before is dated by the writer's own timestamp (`renewed_at`, else
 * `locked_at`), clamped to the observer's now, with `policy.clock_skew_s` of grace because
 * that estimate compares two clocks. Time when this clone could not see the remote (its
 * blind spans, lib/heartbeat/observe.ts) does not count: a holder cannot renew through an
 * outage, and an observer that could not look has not seen it stop.
 */
import type { ErrorCode } from '../errors.js';
import { blindMsBetween, observe, type SeenValue, type SightSpans } from '../heartbeat/observe.js';
import type { LocksFile } from '../schemas/types.gen.js';
import { formatDuration, formatTimestamp, parseTimestamp } from '../util/time.js';

/** One lock entry as stored. */
export type LockEntry = LocksFile['locks'][string];

/** Lock names (schema `locks.json` property names). */
export const LOCK_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The lock the daemons consult before claiming (DESIGN.md section 4, "Claim"). */
export const JOB_ASSIGNMENT_LOCK = 'job_assignment';

/** An expected "no" (a value; the command line turns it into a CoordError). */
export interface LockRefusal {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export type LockTransition =
  | { ok: true; doc: LocksFile; entry: LockEntry | null; previous: LockEntry | null }
  | { ok: false; refusal: LockRefusal };

/** How an observer judges one entry. */
export interface LockJudgement {
  expired: boolean;
  /** Observer ms until expiry (negative: expired that long ago). */
  remainingMs: number;
  /** Lease time of the entry (s). */
  ttlS: number;
  /** Whether the last change was seen by this observer or estimated from the writer's clock. */
  source: SeenValue['source'];
  /** Observer ms when the entry's current value was first seen (or estimated). */
  lastChange: number;
  /** Seconds of allowance for clock skew included (only for an estimate from the writer's clock). */
  graceS: number;
  /** Observer ms since `lastChange` not counted because this clone could not see the remote (absent: none). */
  unseenMs?: number;
}

/** Judges an entry: the current observation of it → expiry. */
export type LockJudge = (name: string, entry: LockEntry) => LockJudgement;

/** The observation key of a lock (shared table format with heartbeats and leases). */
export function lockObservationKey(name: string): string {
  return `lock:${name}`;
}

/** The value whose change means "the holder did something": a new token or a renewal. */
export function lockObservationValue(entry: LockEntry): string {
  return `${entry.token}|${entry.expires_at}`;
}

/** The writer's time of the entry's last change (ms, writer's clock), or null. */
export function lockWriterTime(entry: LockEntry): number | null {
  return parseTimestamp(entry.renewed_at ?? entry.locked_at);
}

/** The lease time of an entry (s): `ttl_s`, else expires_at minus its last change (writer's clock). */
export function lockTtlS(entry: LockEntry): number {
  if (entry.ttl_s && entry.ttl_s > 0) return entry.ttl_s;
  const exp = parseTimestamp(entry.expires_at);
  const at = lockWriterTime(entry);
  if (exp === null || at === null) return 0;
  return Math.max(0, Math.round((exp - at) / 1000));
}

/**
 * Expiry from an observation: expired when the observer's watched time since the value
 * last changed — elapsed time less the blind spans of `sight` — exceeds the lease time (plus
 * `skewS` when the change time is only an estimate from the writer's clock).
 */
export function judgeLock(entry: LockEntry, seen: SeenValue, now: number, skewS: number, sight: SightSpans = { blind: [] }): LockJudgement {
  const ttlS = lockTtlS(entry);
  const grace = seen.source === 'timestamp' ? skewS * 1000 : 0;
  const unseenMs = blindMsBetween(seen.first_seen, now, sight);
  const remainingMs = seen.first_seen + unseenMs + ttlS * 1000 + grace - now;
  return {
    expired: remainingMs < 0, remainingMs, ttlS, source: seen.source, lastChange: seen.first_seen, graceS: grace / 1000,
    ...(unseenMs > 0 ? { unseenMs } : {}),
  };
}

/**
 * Records the current value of every lock in `table` (an observations table, mutated) and
 * returns a judge for them (blind spans of `sight` not counted). Entries of locks no longer
 * present are dropped.
 */
export function observeLocks(table: Record<string, SeenValue>, doc: LocksFile, now: number, skewS: number, sight: SightSpans = { blind: [] }): LockJudge {
  const present = new Set(Object.keys(doc.locks).map(lockObservationKey));
  for (const key of Object.keys(table)) if (key.startsWith('lock:') && !present.has(key)) delete table[key];
  const seen = (name: string, entry: LockEntry) => observe(table, lockObservationKey(name), lockObservationValue(entry), now, lockWriterTime(entry));
  for (const [name, entry] of Object.entries(doc.locks)) seen(name, entry);
  return (name, entry) => judgeLock(entry, seen(name, entry), now, skewS, sight);
}

/** What `acquire` needs. */
export interface AcquireRequest {
  actor: string;
  /** The new fencing token (random, from util/ids newToken). */
  token: string;
  ttlS: number;
  reason?: string;
  now: number;
}

/** A human "expires at T (in about 4m by this observer's clock)" for messages. */
export function describeExpiry(entry: LockEntry, j: LockJudgement): string {
  const unseen = j.unseenMs ? `, not counting ${formatDuration(j.unseenMs)} when this clone could not reach the remote` : '';
  if (j.expired) return `expired ${formatDuration(-j.remainingMs)} ago by this observer's clock${unseen} (expires_at ${entry.expires_at})`;
  const grace = j.graceS ? `, allowing ${j.graceS}s of clock skew as this observer has not yet seen it change` : '';
  return `expires at ${entry.expires_at} (in about ${formatDuration(j.remainingMs)} by this observer's clock${grace}${unseen}, unless renewed)`;
}

function heldRefusal(name: string, entry: LockEntry, j: LockJudgement, actor: string): LockRefusal {
  const you = entry.locked_by === actor ? ' (you, from another process or clone: renew or release it with its token, or wait)' : '';
  return {
    code: 'E_LOCK_HELD',
    message: `lock ${name} is held by ${entry.locked_by}${you} since ${entry.locked_at}${entry.reason ? ` (reason: ${entry.reason})` : ''}; it ${describeExpiry(entry, j)}`,
    details: {
      lock: name, holder: entry.locked_by, locked_at: entry.locked_at, expires_at: entry.expires_at,
      expires_in_s: Math.max(0, Math.ceil(j.remainingMs / 1000)), reason: entry.reason ?? null,
    },
  };
}

/**
 * Takes `name` when it is free or judged expired.
 * @returns the new document and entry (`previous` is the expired entry taken over, if any);
 *   refusal E_LOCK_HELD naming holder and expiry
 */
export function acquireLock(doc: LocksFile, name: string, req: AcquireRequest, judge: LockJudge): LockTransition {
  const current = doc.locks[name] ?? null;
  if (current) {
    const j = judge(name, current);
    if (!j.expired) return { ok: false, refusal: heldRefusal(name, current, j, req.actor) };
  }
  const ts = formatTimestamp(req.now);
  const entry: LockEntry = {
    locked_by: req.actor, locked_at: ts, expires_at: formatTimestamp(req.now + req.ttlS * 1000),
    ttl_s: req.ttlS, token: req.token, ...(req.reason ? { reason: req.reason } : {}),
  };
  return { ok: true, doc: { ...doc, locks: { ...doc.locks, [name]: entry } }, entry, previous: current };
}

function notHolder(name: string, entry: LockEntry | null, what: string): LockRefusal {
  if (!entry) {
    return { code: 'E_NOT_HOLDER', message: `cannot ${what} lock ${name}: nobody holds it (it was released, or broken, or expired and taken and released); acquire it again`, details: { lock: name, holder: null } };
  }
  return {
    code: 'E_NOT_HOLDER',
    message: `cannot ${what} lock ${name}: it is held by ${entry.locked_by} since ${entry.locked_at} (expires_at ${entry.expires_at}) and this clone has not got its token; only the holder may ${what} it (a person may coord lock break ${name} --reason …)`,
    details: { lock: name, holder: entry.locked_by, locked_at: entry.locked_at, expires_at: entry.expires_at },
  };
}

/**
 * Extends a held lock by `ttlS` (default: its own lease time) from `now`.
 * @returns refusal E_NOT_HOLDER when the token does not match (or the lock is gone)
 */
export function renewLock(doc: LocksFile, name: string, token: string | null, now: number, ttlS?: number): LockTransition {
  const current = doc.locks[name] ?? null;
  if (!current || token === null || current.token !== token) return { ok: false, refusal: notHolder(name, current, 'renew') };
  const ttl = ttlS ?? (lockTtlS(current) || 1);
  const entry: LockEntry = { ...current, expires_at: formatTimestamp(now + ttl * 1000), renewed_at: formatTimestamp(now), ttl_s: ttl };
  return { ok: true, doc: { ...doc, locks: { ...doc.locks, [name]: entry } }, entry, previous: current };
}

/**
 * Releases a held lock. Releasing a lock nobody holds is not an error (`entry` and
 * `previous` null, the document unchanged): release is idempotent, like unlocking twice.
 * @returns refusal E_NOT_HOLDER when someone else holds it (or this clone has no token)
 */
export function releaseLock(doc: LocksFile, name: string, token: string | null): LockTransition {
  const current = doc.locks[name] ?? null;
  if (!current) return { ok: true, doc, entry: null, previous: null };
  if (token === null || current.token !== token) return { ok: false, refusal: notHolder(name, current, 'release') };
  const { [name]: _gone, ...rest } = doc.locks;
  return { ok: true, doc: { ...doc, locks: rest }, entry: null, previous: current };
}

/**
 * Removes a lock whoever holds it (a person's decision; the caller records the reason).
 * @returns refusal E_NOT_FOUND when nobody holds it
 */
export function breakLock(doc: LocksFile, name: string): LockTransition {
  const current = doc.locks[name] ?? null;
  if (!current) return { ok: false, refusal: { code: 'E_NOT_FOUND', message: `lock ${name} is not held; nothing to break (coord lock list shows the held locks)`, details: { lock: name } } };
  const { [name]: _gone, ...rest } = doc.locks;
  return { ok: true, doc: { ...doc, locks: rest }, entry: null, previous: current };
}

/** One lock as an observer sees it (for `lock list`, `status`, the dashboard). */
export interface LockView {
  name: string;
  holder: string;
  locked_at: string;
  renewed_at: string | null;
  expires_at: string;
  ttl_s: number;
  reason: string | null;
  expired: boolean;
  /** Seconds until expiry by this observer's clock (negative: expired). */
  expires_in_s: number;
  /** `observed`: this observer saw the last change; `timestamp`: estimated from the writer's clock. */
  judged_by: SeenValue['source'];
}

/** Every lock of `doc`, judged, sorted by name. */
export function viewLocks(doc: LocksFile, judge: LockJudge): LockView[] {
  return Object.entries(doc.locks).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, e]) => {
    const j = judge(name, e);
    return {
      name, holder: e.locked_by, locked_at: e.locked_at, renewed_at: e.renewed_at ?? null, expires_at: e.expires_at,
      ttl_s: j.ttlS, reason: e.reason ?? null, expired: j.expired, expires_in_s: Math.round(j.remainingMs / 1000), judged_by: j.source,
    };
  });
}

/** The holder of `name` when held and not expired, else null (e.g. `job_assignment`). */
export function activeHolder(doc: LocksFile, name: string, judge: LockJudge): string | null {
  const e = doc.locks[name];
  return e && !judge(name, e).expired ? e.locked_by : null;
}
