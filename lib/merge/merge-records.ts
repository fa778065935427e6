/**
 * Three-way merge of a coordination file (jobs, messages, locks, schedules) by record, the
 * pure core of the git merge driver (DESIGN.md section 3: a plain `git pull` never leaves
 * conflict markers inside JSON). No I/O, no git: the driver parses the three versions,
 * calls {@link mergeCoordinationFile}, writes `merged`, and exits non-zero on conflicts.
 *
 * Records are keyed by `id` (jobs, messages, schedules) or by name (locks). Field-level
 * merging is in merge-fields.ts; the job state machine (DESIGN.md section 4) and the lock
 * rules (section 6) are here.
 */
import { parseTimestamp } from '../util/time.js';
import type { FieldRule, JsonObject, MergeAt, MergeConflict, MergeSink } from './merge-fields.js';
import {
  childAt, conflict, isObj, jsonEqual, mergeHistory, mergeObject, mergeSet, mergeValue, note, own,
  resolveBothChanged, setOwn, show, unionKeys,
} from './merge-fields.js';

export type { MergeConflict } from './merge-fields.js';

/** The coordination files the merge driver handles. */
export type CoordinationKind = 'jobs' | 'messages' | 'locks' | 'schedules';

/** The outcome of a merge. */
export interface MergeResult {
  /** The merged document; on conflicts a best effort that keeps ours for each conflicting value. */
  merged: unknown;
  /** Undecidable differences: the caller must exit non-zero. Empty when the merge is clean. */
  conflicts: MergeConflict[];
  /** Decisions worth logging that are not conflicts (a record deleted on one side but changed on the other was kept, …). */
  notes: MergeConflict[];
}

type Side = 'ours' | 'theirs';

const NOUN: Record<CoordinationKind, string> = { jobs: 'job', messages: 'message', locks: 'lock', schedules: 'schedule' };

/** Statuses a job ends in (DESIGN.md section 4). */
const TERMINAL: ReadonlySet<unknown> = new Set(['completed', 'failed', 'cancelled']);
/** Statuses that carry an outcome: terminal, plus `blocked` (failed on two builders). */
const FINAL: ReadonlySet<unknown> = new Set([...TERMINAL, 'blocked']);

/** Fields that describe a job's outcome; they travel together from the side whose final status wins. */
const RESULT_FIELDS = [
  'status', 'completed_at', 'exit_code', 'error', 'assigned_to', 'attempt', 'lease_expires_at',
  'history', 'artifacts', 'failed_on',
] as const;
/** Fields that describe one claim (DESIGN.md section 4, "Claim" and "Lease and fencing"). */
const CLAIM_FIELDS = ['assigned_to', 'attempt', 'lease_expires_at', 'started_at'] as const;
/** What a final status brings: its result fields and the claim they belong to (`started_at` too). */
const FINAL_GROUP: readonly string[] = [...new Set<string>([...RESULT_FIELDS, ...CLAIM_FIELDS])];
/**
 * Result fields still merged when a side wins the state machine: `failed_on` only keeps a
 * builder from claiming the job again, so a union never makes the record inconsistent and
 * never forgets a failure. (`history` does travel with the winner: an attempt the winner
 * fenced out must not stay "running" in a finished job.)
 */
const ALWAYS_MERGED: ReadonlySet<string> = new Set(['failed_on']);

/** True when status `a` beats `b` in a two-sided change (terminal > running > queued; blocked > queued, running, failed). */
function beats(a: unknown, b: unknown): boolean {
  if (a === 'blocked') return b === 'queued' || b === 'running' || b === 'failed';
  if (TERMINAL.has(a)) return b === 'queued' || b === 'running';
  return a === 'running' && b === 'queued';
}

/** A job's attempt counter (absent in legacy jobs: 0). */
function attemptOf(job: JsonObject): number {
  return typeof job.attempt === 'number' ? job.attempt : 0;
}

/** Which side's status and which group of fields win for a job both sides changed; null: per-field only. */
interface JobDecision {
  side: Side;
  fields: readonly string[];
  why: string;
  /** Set when the state machine cannot decide: ours is kept as a whole group, and this is the conflict. */
  conflict?: string;
}

/**
 * The job state machine for a record both sides changed (rules from DESIGN.md section 4):
 * - same status: the higher `attempt` (a newer claim) wins the claim fields;
 * - neither status final: the higher attempt wins; equal attempts: a one-sided status change
 *   wins (plain three-way, e.g. a requeue after a lost lease), else `running` beats `queued`;
 * - a final status involved: a one-sided change wins; else terminal beats running/queued,
 *   blocked beats queued/running/failed; two different terminal statuses: the higher attempt,
 *   or a conflict when the attempts are equal (ours' group is kept whole, so the
 *   best-effort record stays consistent: no "completed" with the other side's error).
 * A final winner brings {@link FINAL_GROUP}, a running/queued winner status plus {@link CLAIM_FIELDS}.
 */
function decideJob(base: JsonObject | undefined, ours: JsonObject, theirs: JsonObject): JobDecision | null {
  const [os, ts, ao, at] = [ours.status, theirs.status, attemptOf(ours), attemptOf(theirs)];
  const higher: Side = ao > at ? 'ours' : 'theirs';
  if (jsonEqual(os, ts)) {
    return ao === at ? null : { side: higher, fields: CLAIM_FIELDS, why: `attempt ${Math.max(ao, at)} is the newer claim` };
  }
  const oneSided: Side | null = base === undefined ? null
    : jsonEqual(base.status, os) ? 'theirs' : jsonEqual(base.status, ts) ? 'ours' : null;
  const byRank: Side | null = beats(os, ts) ? 'ours' : beats(ts, os) ? 'theirs' : null;
  let side: Side | null;
  let why: string;
  if (!FINAL.has(os) && !FINAL.has(ts)) {
    side = ao !== at ? higher : oneSided ?? byRank;
    why = ao !== at ? `attempt ${Math.max(ao, at)} is the newer claim` : oneSided ? 'only that side changed the status' : 'running beats queued';
  } else if (oneSided ?? byRank) {
    side = oneSided ?? byRank;
    why = oneSided ? 'only that side changed the status' : `status ${show(side === 'ours' ? os : ts)} beats ${show(side === 'ours' ? ts : os)}`;
  } else if (TERMINAL.has(os) && TERMINAL.has(ts) && ao !== at) {
    side = higher;
    why = `both ended; attempt ${Math.max(ao, at)} is the later one`;
  } else {
    return {
      side: 'ours', fields: FINAL_GROUP, why: 'undecidable',
      conflict: `field "status" changed differently on both sides (ours ${show(os)}, theirs ${show(ts)}, attempts ${ao} and ${at}); kept ours with its result fields`,
    };
  }
  if (side === null) return null;
  const status = side === 'ours' ? os : ts;
  return { side, fields: FINAL.has(status) ? FINAL_GROUP : ['status', ...CLAIM_FIELDS], why };
}

/** `cancel_requested` set differently on both sides: a request to cancel is never lost (OR). */
const orTrue: FieldRule = (_b, ours, theirs) => (ours === true || theirs === true ? true : ours);

/** `last_slot` of a schedule advanced on both sides: the later slot wins (a watermark only moves forward). */
const laterTimestamp: FieldRule = (base, ours, theirs, at, sink) => {
  const [o, t] = [ours, theirs].map((v) => (typeof v === 'string' ? parseTimestamp(v) : null));
  if (o === null || t === null) return resolveBothChanged(base, ours, theirs, at, sink);
  return o >= t ? ours : theirs;
};

const JOB_RULES: Record<string, FieldRule> = { cancel_requested: orTrue, failed_on: mergeSet, history: mergeHistory };
const RECORD_RULES: Record<'messages' | 'schedules', Record<string, FieldRule>> = {
  messages: { read_by: mergeSet, acked_by: mergeSet, tags: mergeSet },
  schedules: { last_slot: laterTimestamp },
};

/**
 * Merges a job both sides changed: the state machine ({@link decideJob}) picks the side
 * whose status and field group win, those fields are made equal on both inputs, and
 * everything else merges per field (history by attempt unless a final status brought it,
 * failed_on as a set, cancel_requested OR). Dropped values of the other side become a note.
 */
function mergeJob(base: JsonObject | undefined, ours: JsonObject, theirs: JsonObject, at: MergeAt, sink: MergeSink): JsonObject {
  const d = decideJob(base, ours, theirs);
  if (d === null) return mergeObject(base, ours, theirs, at, sink, JOB_RULES);
  if (d.conflict) conflict(sink, childAt(at, 'status'), d.conflict);
  const [win, lose] = d.side === 'ours' ? [ours, theirs] : [theirs, ours];
  const o = { ...ours };
  const t = { ...theirs };
  const dropped: string[] = [];
  for (const f of d.fields) {
    if (ALWAYS_MERGED.has(f)) continue;
    if (!jsonEqual(own(lose, f), own(base, f)) && !jsonEqual(own(lose, f), own(win, f))) dropped.push(f);
    for (const x of [o, t]) {
      if (Object.hasOwn(win, f)) setOwn(x, f, win[f]);
      else delete x[f];
    }
  }
  if (dropped.length && !d.conflict) {
    note(sink, at, `took ${dropped.join(', ')} from ${d.side} (${d.why}); the other side's values were dropped`);
  }
  return mergeObject(base, o, t, at, sink, JOB_RULES);
}

/** Records of a list by id, or null when one lacks a string id or an id repeats. */
function indexById(list: unknown): Map<string, JsonObject> | null {
  if (!Array.isArray(list)) return null;
  const map = new Map<string, JsonObject>();
  for (const r of list) {
    if (!isObj(r) || typeof r.id !== 'string' || map.has(r.id)) return null;
    map.set(r.id, r);
  }
  return map;
}

/**
 * Merges a record list (jobs, messages, schedules) by id. Order: ours, then records only in
 * theirs in their order. Added on one side → kept; deleted on one side and unchanged on the
 * other → deleted; deleted on one side and changed on the other → the changed record is kept
 * (never lose data) with a note.
 */
function mergeRecordList(kind: 'jobs' | 'messages' | 'schedules', base: unknown, ours: unknown, theirs: unknown, at: MergeAt, sink: MergeSink): unknown {
  const [o, t] = [indexById(ours), indexById(theirs)];
  if (o === null || t === null) {
    conflict(sink, at, `"${kind}" on ${o === null ? 'ours' : 'theirs'} is not a list of records with unique string ids; kept ours`);
    return ours;
  }
  // A base that is not a valid list (a legacy shape) counts as absent: every record is kept.
  const b = indexById(base) ?? new Map<string, JsonObject>();
  const out: JsonObject[] = [];
  for (const id of [...o.keys(), ...[...t.keys()].filter((k) => !o.has(k))]) {
    const [bv, ov, tv] = [b.get(id), o.get(id), t.get(id)];
    const rat = childAt(at, out.length, `${NOUN[kind]} "${id}"`);
    let merged: JsonObject | undefined;
    if (ov === undefined || tv === undefined) {
      merged = ov ?? tv;
      if (bv !== undefined && jsonEqual(bv, merged)) merged = undefined;
      else if (bv !== undefined) note(sink, rat, `deleted on ${ov === undefined ? 'ours' : 'theirs'} but changed on the other side; kept the changed record`);
    } else if (jsonEqual(ov, tv) || jsonEqual(bv, tv)) merged = ov;
    else if (jsonEqual(bv, ov)) merged = tv;
    else merged = kind === 'jobs' ? mergeJob(bv, ov, tv, rat, sink) : mergeObject(bv, ov, tv, rat, sink, RECORD_RULES[kind]);
    if (merged !== undefined) out.push(merged);
  }
  return out;
}

/**
 * A lock entry both sides changed (DESIGN.md section 6): released on one side and renewed or
 * re-acquired on the other → conflict; different tokens (both acquired) → conflict; the
 * same token → the later `expires_at` wins (a renewal), equal → per field.
 */
function mergeLockEntry(base: unknown, ours: unknown, theirs: unknown, at: MergeAt, sink: MergeSink): unknown {
  if (ours === undefined || theirs === undefined) {
    conflict(sink, at, `released on ${ours === undefined ? 'ours' : 'theirs'} but renewed or re-acquired on the other side; cannot tell who holds it; kept ours`);
    return ours;
  }
  if (!isObj(ours) || !isObj(theirs)) return resolveBothChanged(base, ours, theirs, at, sink);
  if (ours.token !== theirs.token) {
    conflict(sink, at, `acquired on both sides with different tokens (ours by ${show(ours.locked_by)}, theirs by ${show(theirs.locked_by)}); kept ours`);
    return ours;
  }
  const [oe, te] = [ours, theirs].map((l) => (typeof l.expires_at === 'string' ? parseTimestamp(l.expires_at) : null));
  if (oe !== null && te !== null && oe !== te) return oe > te ? ours : theirs;
  return mergeObject(isObj(base) ? base : undefined, ours, theirs, at, sink);
}

/** Merges the `locks` map by name: key order of ours, then names new in theirs. */
const mergeLocks: FieldRule = (base, ours, theirs, at, sink) => {
  if (!isObj(ours) || !isObj(theirs)) return resolveBothChanged(base, ours, theirs, at, sink);
  const b = isObj(base) ? base : undefined;
  const out: JsonObject = {};
  for (const name of unionKeys(ours, theirs)) {
    const lat = childAt(at, name, `lock "${name}"`);
    const v = mergeValue(own(b, name), own(ours, name), own(theirs, name), lat, sink, mergeLockEntry);
    if (v !== undefined) setOwn(out, name, v);
  }
  return out;
};

/**
 * Three-way merge of one coordination file, record by record.
 *
 * Shapes (canonical, already parsed): jobs `{"$schema", "paused"?, "jobs": Job[]}`, messages
 * `{"$schema", "messages": Message[]}`, schedules `{"$schema", "schedules": [...]}` (records
 * keyed by `id`), locks `{"$schema", "locks": {name: entry}}` (keyed by name). Top-level keys
 * other than the record container (`paused`, `$schema`, unknown keys) merge per key.
 *
 * Rules: DESIGN.md section 3 (merge by id, never conflict markers), section 4 (job state
 * machine, see decideJob), section 6 (locks), section 7 (read/ack per recipient → sets).
 * Conflicts keep ours for the conflicting value, so `merged` is always a whole document.
 *
 * @param kind which file
 * @param base the common ancestor, or null when both sides added the file
 * @param ours the current branch's version
 * @param theirs the version being merged in
 */
export function mergeCoordinationFile(kind: CoordinationKind, base: unknown, ours: unknown, theirs: unknown): MergeResult {
  const sink: MergeSink = { conflicts: [], notes: [] };
  const top: MergeAt = { pointer: '', field: '', subject: `${kind}.json` };
  if (!isObj(ours) || !isObj(theirs)) {
    conflict(sink, top, `${isObj(ours) ? 'theirs' : 'ours'} is not a JSON object; kept ours`);
    return { merged: ours, ...sink };
  }
  const rule: FieldRule = kind === 'locks'
    ? mergeLocks
    : (b, o, t, at, s) => mergeRecordList(kind, b, o, t, at, s);
  const merged = mergeObject(isObj(base) ? base : undefined, ours, theirs, top, sink, { [kind]: rule });
  return { merged, ...sink };
}
