/**
 * Legacy shapes → canonical shapes (DESIGN.md section 1; METHODOLOGY.md "Legacy shapes").
 *
 * The upstream shell tooling wrote locks as an array of `{name, owner, timestamp}` or as
 * an object keyed by name, messages with one `read` flag and without `type`, `priority` or
 * `tags`, timestamps like `2025-11-04 20:45`, jobs without `attempt`/`history` (or without
 * `type`: the upstream queue held only builds, so they become type `build`), and no
 * `$schema`. Readers accept all of these through {@link normalizeDocument}; the result is
 * deterministic (the same input always gives the same output), so `coord migrate` run
 * twice changes nothing the second time. Canonical documents also get every optional
 * field filled with its default, so hand-added minimal records grow their full shape.
 */
import { createHash } from 'node:crypto';
import type { Issue } from '../errors.js';
import type { Policy } from '../config/policy.js';
import { canonicalTimestamp, formatTimestamp, parseTimestamp } from '../util/time.js';
import type { FileKind } from './kinds.js';

export interface NormalizeContext {
  /** Configured builder ids (for "read by its addressee" of legacy broadcasts). */
  builders: readonly string[];
  policy: Policy;
}

export interface Normalized {
  value: unknown;
  /** Legacy shapes found, one sentence each (empty for a canonical file). */
  legacy: string[];
  issues: Issue[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keys whose string values are timestamps, in any record of any file. */
const TIMESTAMP_KEYS = new Set([
  'created_at', 'started_at', 'completed_at', 'lease_expires_at', 'not_before', 'timestamp',
  'locked_at', 'expires_at', 'renewed_at', 'updated_at', 'claimed_at', 'ended_at', 'since',
  'until', 'at', 'generated_at', 'last_slot', 'last_heartbeat',
]);

const LEGACY_TIME_NOTE = 'timestamps in a legacy form';

/** Rewrites legacy timestamp strings in place; unparseable ones are left for the schema to report. */
function canonicalizeTimestamps(node: unknown, notes: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((n) => canonicalizeTimestamps(n, notes));
  if (!isObj(node)) return node;
  const out: Obj = {};
  for (const [k, v] of Object.entries(node)) {
    if (TIMESTAMP_KEYS.has(k) && typeof v === 'string') {
      const c = canonicalTimestamp(v);
      // One note per document, with the first example: the form matters, not every value.
      if (c !== null && c !== v && ![...notes].some((n) => n.startsWith(LEGACY_TIME_NOTE))) notes.add(`${LEGACY_TIME_NOTE} (e.g. "${v}")`);
      out[k] = c ?? v;
    } else {
      out[k] = canonicalizeTimestamps(v, notes);
    }
  }
  return out;
}

function fill(rec: Obj, defaults: Obj): Obj {
  const out: Obj = { ...rec };
  for (const [k, v] of Object.entries(defaults)) if (!(k in out)) out[k] = structuredClone(v);
  return out;
}

/**
 * The note for jobs written in the minimal hand-written form (METHODOLOGY.md section 3:
 * "minimal records are fine"): a supported form, not a legacy one — `coord migrate` names
 * it when it fills the defaults in, `coord validate` does not report it.
 */
export const MINIMAL_JOBS_NOTE = 'minimal job records (defaults filled in)';

function normalizeJob(job: unknown, ctx: NormalizeContext, notes: Set<string>): unknown {
  if (!isObj(job)) return job;
  if (!('attempt' in job) || !('history' in job)) notes.add(MINIMAL_JOBS_NOTE);
  // The upstream queue (job_queue.sh add BRANCH COMMIT) held only builds and wrote no type.
  if (!('type' in job)) notes.add('jobs without type (the upstream queue held only builds: type "build")');
  const status = job.status;
  const started = status === 'running' || status === 'completed' || status === 'failed';
  return fill(job, {
    type: 'build', description: '', branch: null, commit: null, params: {}, requires: {},
    assigned_to: null, attempt: started ? 1 : 0, max_attempts: ctx.policy.max_attempts,
    lease_expires_at: null, cancel_requested: false, not_before: null, created_by: 'unknown',
    started_at: null, completed_at: null, exit_code: null, error: null, failed_on: [],
    history: [], artifacts: [], log: null,
  });
}

function addressees(to: unknown, from: unknown, builders: readonly string[]): string[] {
  if (to === 'all') return builders.filter((b) => b !== from);
  if (typeof to === 'string') return [to];
  if (Array.isArray(to)) return to.filter((x): x is string => typeof x === 'string');
  return [];
}

function normalizeMessage(msg: unknown, ctx: NormalizeContext, notes: Set<string>): unknown {
  if (!isObj(msg)) return msg;
  let m: Obj = { ...msg };
  if ('read' in m && typeof m.read === 'boolean') {
    notes.add('messages with a single "read" flag');
    const readBy = Array.isArray(m.read_by) ? [...(m.read_by as unknown[])] : [];
    if (m.read) for (const a of addressees(m.to, m.from, ctx.builders)) if (!readBy.includes(a)) readBy.push(a);
    m.read_by = readBy;
    delete m.read;
  }
  if (typeof m.acknowledged === 'boolean' || typeof m.acked === 'boolean') {
    notes.add('messages with a single "acked" flag');
    const flag = (m.acknowledged ?? m.acked) as boolean;
    const ackedBy = Array.isArray(m.acked_by) ? [...(m.acked_by as unknown[])] : [];
    if (flag) for (const a of addressees(m.to, m.from, ctx.builders)) if (!ackedBy.includes(a)) ackedBy.push(a);
    m.acked_by = ackedBy;
    delete m.acknowledged;
    delete m.acked;
  }
  if (!('type' in m) || !('priority' in m) || !('tags' in m)) notes.add('messages without type/priority/tags');
  if (typeof m.require_ack === 'boolean' && !('ack_required' in m)) {
    m.ack_required = m.require_ack;
    delete m.require_ack;
  }
  if (!('subject' in m) && typeof m.body === 'string') {
    m.subject = (m.body.split('\n').find((l) => l.trim() !== '') ?? '').trim().slice(0, 100);
  }
  m = fill(m, { type: 'info', priority: 'normal', ack_required: false, read_by: [], acked_by: [], in_reply_to: null, tags: [] });
  return m;
}

/** A deterministic token for a legacy lock, so that reading it twice gives the same value. */
function legacyToken(name: string, owner: unknown, at: unknown): string {
  return 'legacy-' + createHash('sha256').update(`${name}\0${String(owner)}\0${String(at)}`).digest('hex').slice(0, 24);
}

/**
 * @param legacyShape the file itself is in a legacy shape (array, or no "locks" wrapper):
 *   its entries may lack expiry and token like the entries with owner/timestamp fields.
 *   A canonical entry (locked_by/locked_at) missing `token` or `expires_at` is a bad hand
 *   edit, not a legacy shape: it is left for the schema check to report, never filled in.
 */
function normalizeLockEntry(name: string, e: unknown, ctx: NormalizeContext, notes: Set<string>, legacyShape: boolean): unknown {
  if (!isObj(e)) return e;
  const legacyEntry = legacyShape || 'owner' in e || 'holder' in e || 'timestamp' in e;
  const out: Obj = { ...e };
  delete out.name;
  // Some upstream scripts wrote `holder` for `owner`.
  if (!('locked_by' in out) && !('owner' in out) && 'holder' in out) { out.owner = out.holder; delete out.holder; }
  if (!('locked_by' in out) && 'owner' in out) { out.locked_by = out.owner; delete out.owner; notes.add('locks with owner/timestamp fields'); }
  if (!('locked_at' in out) && 'timestamp' in out) { out.locked_at = out.timestamp; delete out.timestamp; }
  if (!legacyEntry) return out;
  if (!('expires_at' in out) && typeof out.locked_at === 'string') {
    const t = parseTimestamp(out.locked_at);
    if (t !== null) out.expires_at = formatTimestamp(t + ctx.policy.lease_ttl_s * 1000);
  }
  if (!('token' in out)) out.token = legacyToken(name, out.locked_by, out.locked_at);
  return out;
}

function normalizeLocks(doc: unknown, ctx: NormalizeContext, notes: Set<string>, issues: Issue[], file: string): unknown {
  let locks: unknown = isObj(doc) ? doc.locks : doc;
  const rest: Obj = isObj(doc) ? { ...doc } : {};
  if (Array.isArray(locks)) {
    notes.add('locks as an array');
    const map: Obj = {};
    locks.forEach((e, i) => {
      const name = isObj(e) && typeof e.name === 'string' ? e.name : null;
      if (name === null) {
        issues.push({ file, pointer: `${isObj(doc) ? '/locks' : ''}/${i}`, reason: 'legacy lock entry has no "name"', severity: 'error' });
        return;
      }
      if (name in map) {
        issues.push({ file, pointer: `${isObj(doc) ? '/locks' : ''}/${i}/name`, reason: `lock "${name}" listed twice`, severity: 'error' });
        return;
      }
      map[name] = normalizeLockEntry(name, e, ctx, notes, true);
    });
    locks = map;
  } else if (isObj(locks)) {
    const map: Obj = {};
    for (const [name, e] of Object.entries(locks)) map[name] = normalizeLockEntry(name, e, ctx, notes, false);
    locks = map;
  } else if (locks === undefined && isObj(doc) && Object.values(doc).every((v) => isObj(v) && ('owner' in v || 'holder' in v || 'locked_by' in v))) {
    // Legacy: a bare object keyed by lock name, no "locks" wrapper.
    notes.add('locks as a bare object keyed by name');
    const map: Obj = {};
    for (const [name, e] of Object.entries(doc)) map[name] = normalizeLockEntry(name, e, ctx, notes, true);
    return { locks: map };
  }
  return { ...rest, locks };
}

/**
 * Normalizes a parsed document of `kind` to the canonical shape (without `$schema`, which
 * the caller adds). Problems that make a legacy shape unreadable are returned as issues;
 * anything else is left for the schema check.
 */
export function normalizeDocument(kind: FileKind, file: string, doc: unknown, ctx: NormalizeContext): Normalized {
  const notes = new Set<string>();
  const issues: Issue[] = [];
  let value = doc;
  if (Array.isArray(doc) && kind !== 'locks') {
    issues.push({ file, pointer: '', reason: `top level is an array; ${file} holds an object (see schemas/)`, severity: 'error' });
    return { value: doc, legacy: [], issues };
  }
  if (!Array.isArray(doc) && !isObj(doc)) {
    issues.push({ file, pointer: '', reason: `top level is ${doc === null ? 'null' : typeof doc}; ${file} holds a JSON object`, severity: 'error' });
    return { value: doc, legacy: [], issues };
  }
  if (kind === 'locks') value = normalizeLocks(doc, ctx, notes, issues, file);
  value = canonicalizeTimestamps(value, notes);
  if (isObj(value)) {
    const v: Obj = { ...value };
    if (kind === 'jobs' && Array.isArray(v.jobs)) {
      v.jobs = v.jobs.map((j) => normalizeJob(j, ctx, notes));
      if (!('paused' in v)) v.paused = null;
      if (!('grounded' in v)) v.grounded = {};
    }
    if (kind === 'messages' && Array.isArray(v.messages)) v.messages = v.messages.map((m) => normalizeMessage(m, ctx, notes));
    if (kind === 'archive' && Array.isArray(v.records)) {
      v.records = v.records.map((r) => (v.kind === 'jobs' ? normalizeJob(r, ctx, notes) : normalizeMessage(r, ctx, notes)));
    }
    if (kind === 'schedules' && Array.isArray(v.schedules)) {
      v.schedules = (v.schedules as unknown[]).map((s) => (isObj(s) ? fill(s, { enabled: true, last_slot: null }) : s));
    }
    value = v;
  }
  return { value, legacy: [...notes], issues };
}
