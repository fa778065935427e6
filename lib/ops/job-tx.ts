/**
 * Operator writes to the queue (issue 6): add, cancel, retry, pause/resume, ground/unground.
 * Each is one transaction whose decision is one of the named pure transitions of
 * lib/jobs/model.ts, re-checked on the fresh state; a batch (`cancel A B`) is all or
 * nothing, so a refused item leaves the queue untouched.
 */
import type { RemoteSpec } from '../git/repo.js';
import {
  addJob, cancelJob, decideGrounding, ineligibility, isGroundingActive, makeJob, pauseQueue, resumeQueue, retryJob, ungroundBuilder,
  type GroundingEntry, type GroundRequest, type JobRecord, type NewJobInput,
} from '../jobs/model.js';
import type { BuildConfigFile, JobsFile } from '../schemas/types.gen.js';
import { PATHS, schemaRefFor } from '../store/kinds.js';
import type { TxOutcome } from '../tx/transaction.js';
import type { Clock } from '../util/time.js';
import { updateDoc, type DocDecision } from './tx-doc.js';

export interface OpOptions {
  repoRoot: string;
  actor: string;
  remote?: RemoteSpec;
  clock?: Clock;
}

const emptyJobs = (): JobsFile => ({ $schema: schemaRefFor(PATHS.jobs, 'jobs.schema.json'), paused: null, grounded: {}, jobs: [] });

function jobsTx<R>(o: OpOptions, action: string, decide: Parameters<typeof updateDoc<JobsFile, R>>[1]): Promise<TxOutcome<R>> {
  return updateDoc<JobsFile, R>({ ...o, action, path: PATHS.jobs, empty: emptyJobs }, decide);
}

/**
 * Why no configured builder could ever run `job` (type allowed nowhere, requirements met
 * nowhere), or null when at least one could.
 */
export function unrunnableReason(job: JobRecord, config: BuildConfigFile | null, now: number): string | null {
  const builders = Object.entries(config?.builders ?? {});
  if (!builders.length) return 'no builders are configured';
  const reasons: string[] = [];
  for (const [b, c] of builders) {
    const why = ineligibility(job, { builder: b, arch: c.arch ?? '', labels: c.labels ?? [] }, config, now);
    if (!why || (why.kind !== 'not_allowed' && why.kind !== 'arch' && why.kind !== 'labels')) return null;
    reasons.push(why.message);
  }
  return `no configured builder can run it: ${reasons.join('; ')}`;
}

/**
 * Queues a new job with id `id`. `warnings` says when no configured builder could run it.
 * @returns refused E_USAGE (exit 2) when the type is not defined in shared/build_config.json, naming the known ones
 */
export function addJobTx(o: OpOptions, id: string, input: NewJobInput): Promise<TxOutcome<{ job: JobRecord; warnings: string[] }>> {
  return jobsTx<{ job: JobRecord; warnings: string[] }>(o, 'job.add', (doc, s, now) => {
    const types = Object.keys(s.config?.job_types ?? {});
    if (!types.includes(input.type)) {
      return { kind: 'refuse', code: 'E_USAGE', message: `unknown job type "${input.type}"; shared/build_config.json defines: ${types.join(', ') || 'none'}`, details: { known_types: types } };
    }
    const t = addJob(doc, makeJob(input, id, o.actor, now, s.policy));
    if (!t.ok) return { kind: 'refuse', ...t.refusal };
    const unrunnable = unrunnableReason(t.job, s.config, now);
    return { kind: 'write', doc: t.doc, summary: `${id} ${input.type} priority ${t.job.priority}`, trailers: { Job: id }, result: { job: t.job, warnings: unrunnable ? [unrunnable] : [] } };
  });
}

export interface CancelOutcome {
  id: string;
  /** Status before. */
  was: string;
  /** `cancelled` (was queued) or `cancel_requested` (running: its builder stops it). */
  result: 'cancelled' | 'cancel_requested';
}

/**
 * Cancels jobs: queued → cancelled at once, running → cancel requested. All or nothing.
 * @returns refused E_NOT_FOUND (unknown id) or E_INVALID_STATE (finished job) for the first bad id
 */
export function cancelJobsTx(o: OpOptions, ids: readonly string[]): Promise<TxOutcome<CancelOutcome[]>> {
  return jobsTx<CancelOutcome[]>(o, 'job.cancel', (doc, _s, now) => {
    let cur = doc;
    const out: CancelOutcome[] = [];
    for (const id of ids) {
      const before = cur.jobs.find((j) => j.id === id);
      const t = cancelJob(cur, id, now);
      if (!t.ok) return { kind: 'refuse', ...t.refusal, details: { ...(t.refusal.details ?? {}), job: id } };
      cur = t.doc;
      out.push({ id, was: before?.status ?? '?', result: t.job.status === 'cancelled' ? 'cancelled' : 'cancel_requested' });
    }
    if (cur === doc) return { kind: 'noop', result: out };
    return { kind: 'write', doc: cur, summary: ids.join(' '), trailers: { Job: ids.join(' ') }, result: out };
  });
}

export interface RetrySelection {
  ids: readonly string[];
  /** Every failed job. */
  failed: boolean;
  /** Every blocked job. */
  blocked: boolean;
}

/**
 * Requeues failed/blocked/cancelled jobs with `failed_on` cleared. All or nothing.
 * @returns refused E_NOT_FOUND / E_INVALID_STATE for the first bad explicit id; noop when the selection is empty
 */
export function retryJobsTx(o: OpOptions, sel: RetrySelection): Promise<TxOutcome<JobRecord[]>> {
  return jobsTx<JobRecord[]>(o, 'job.retry', (doc, s): DocDecision<JobsFile, JobRecord[]> => {
    const chosen = [...sel.ids];
    for (const j of doc.jobs) {
      if ((sel.failed && j.status === 'failed') || (sel.blocked && j.status === 'blocked')) if (!chosen.includes(j.id)) chosen.push(j.id);
    }
    let cur = doc;
    const out: JobRecord[] = [];
    for (const id of chosen) {
      const t = retryJob(cur, id, s.policy);
      if (!t.ok) return { kind: 'refuse', ...t.refusal, details: { ...(t.refusal.details ?? {}), job: id } };
      cur = t.doc;
      out.push(t.job);
    }
    if (!out.length) return { kind: 'noop', result: out };
    return { kind: 'write', doc: cur, summary: chosen.join(' '), trailers: { Job: chosen.join(' ') }, result: out };
  });
}

export interface PauseState {
  paused: boolean;
  by: string | null;
  at: string | null;
  reason: string | null;
  changed: boolean;
}

const pauseStateOf = (doc: JobsFile, changed: boolean): PauseState => ({
  paused: Boolean(doc.paused), by: doc.paused?.by ?? null, at: doc.paused?.at ?? null, reason: doc.paused?.reason ?? null, changed,
});

/** Stops claiming fleet-wide. Already paused: noop (the earlier pause stays). */
export function pauseQueueTx(o: OpOptions, reason: string | null): Promise<TxOutcome<PauseState>> {
  return jobsTx<PauseState>(o, 'queue.pause', (doc, _s, now): DocDecision<JobsFile, PauseState> => {
    const next = pauseQueue(doc, o.actor, reason, now);
    if (next === doc) return { kind: 'noop', result: pauseStateOf(doc, false) };
    return { kind: 'write', doc: next, summary: reason ?? '', trailers: reason ? { Reason: reason } : {}, result: pauseStateOf(next, true) };
  });
}

/** Allows claiming again. Not paused: noop. */
export function resumeQueueTx(o: OpOptions): Promise<TxOutcome<PauseState>> {
  return jobsTx<PauseState>(o, 'queue.resume', (doc) => {
    const next = resumeQueue(doc);
    if (next === doc) return { kind: 'noop', result: pauseStateOf(doc, false) };
    return { kind: 'write', doc: next, summary: `(was paused by ${doc.paused?.by ?? '?'})`, result: pauseStateOf(next, true) };
  });
}

export interface GroundState {
  builder: string;
  grounded: boolean;
  changed: boolean;
  entry: GroundingEntry | null;
  /** The grounding in force before, when this command replaced (`ground --force`) or lifted (`unground`) it; else null. */
  previous: GroundingEntry | null;
}

function requireBuilder(builder: string, configured: readonly string[]): DocDecision<JobsFile, GroundState> | null {
  if (configured.includes(builder)) return null;
  return { kind: 'refuse', code: 'E_NOT_FOUND', message: `${builder} is not a configured builder (shared/build_config.json has: ${configured.join(', ') || 'none'})`, details: { builders: configured } };
}

/**
 * Grounds `builder` by hand (lib/jobs/model decideGrounding): noop when a grounding in force
 * already says the same; a different one in force only with `req.force`.
 * @returns refused E_NOT_FOUND for an unconfigured builder, E_USAGE for an `until` that has
 *   passed, E_INVALID_STATE for a grounding in force (without `force`)
 */
export function groundBuilderTx(o: OpOptions, builder: string, req: Omit<GroundRequest, 'by'>): Promise<TxOutcome<GroundState>> {
  return jobsTx<GroundState>(o, 'builder.ground', (doc, s, now): DocDecision<JobsFile, GroundState> => {
    const bad = requireBuilder(builder, Object.keys(s.config?.builders ?? {}));
    if (bad) return bad;
    const d = decideGrounding(doc, builder, { ...req, by: o.actor }, now);
    if (d.kind === 'refuse') return { kind: 'refuse', ...d.refusal };
    if (d.kind === 'already') return { kind: 'noop', result: { builder, grounded: true, changed: false, entry: d.entry, previous: null } };
    const summary = `${builder}: ${req.reason}${d.replaced ? ` (replaces the grounding by ${d.replaced.by} since ${d.replaced.at})` : ''}`;
    return { kind: 'write', doc: d.doc, summary, trailers: { Builder: builder, Reason: req.reason }, result: { builder, grounded: true, changed: true, entry: d.entry, previous: d.replaced } };
  });
}

/** Lifts the grounding of `builder`. Not grounded: noop. @returns refused E_NOT_FOUND for an unconfigured builder */
export function ungroundBuilderTx(o: OpOptions, builder: string, reason: string | null): Promise<TxOutcome<GroundState>> {
  return jobsTx<GroundState>(o, 'builder.unground', (doc, s, now): DocDecision<JobsFile, GroundState> => {
    const bad = requireBuilder(builder, Object.keys(s.config?.builders ?? {}));
    if (bad) return bad;
    const next = ungroundBuilder(doc, builder);
    if (next === doc) return { kind: 'noop', result: { builder, grounded: false, changed: false, entry: null, previous: null } };
    const lifted = doc.grounded?.[builder];
    return { kind: 'write', doc: next, summary: builder, trailers: { Builder: builder, ...(reason ? { Reason: reason } : {}) }, result: { builder, grounded: false, changed: true, entry: null, previous: isGroundingActive(lifted, now) ? lifted : null } };
  });
}
