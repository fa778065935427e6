/**
 * The job queue's pure core (DESIGN.md section 4): every state change of a job is one
 * named transition that re-checks its precondition on the state it is given, so a
 * transaction that re-runs on fresh state decides again instead of re-applying.
 *
 * Transitions return the new queue document, or a {@link Refusal} (an expected "no").
 */
import type { ErrorCode } from '../errors.js';
import type { Policy } from '../config/policy.js';
import type { AttemptRecord, BuildConfigFile, Job, JobsFile } from '../schemas/types.gen.js';
import { formatTimestamp, parseTimestamp } from '../util/time.js';

/** A job with every field present (the store fills defaults). */
export type JobRecord = Required<Omit<Job, 'command' | 'cmd' | 'script' | 'schedule_id'>> & { schedule_id?: string | null };

export interface Refusal {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export type Transition = { ok: true; doc: JobsFile; job: JobRecord } | { ok: false; refusal: Refusal };

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

/** What a new job is made from (`coord jobs add`, schedules, the legacy `job_queue.sh add`). */
export interface NewJobInput {
  type: string;
  priority?: number;
  description?: string;
  branch?: string | null;
  commit?: string | null;
  params?: Record<string, string>;
  requires?: { arch?: string; labels?: string[] };
  not_before?: string | null;
  max_attempts?: number;
  schedule_id?: string | null;
}

/** A new queued job. `priority` defaults to 5, `max_attempts` to the policy's. */
export function makeJob(input: NewJobInput, id: string, actor: string, now: number, policy: Policy): JobRecord {
  return {
    id, type: input.type, priority: input.priority ?? 5, description: input.description ?? '',
    branch: input.branch ?? null, commit: input.commit ?? null, params: input.params ?? {}, requires: input.requires ?? {},
    status: 'queued', assigned_to: null, attempt: 0, max_attempts: input.max_attempts ?? policy.max_attempts,
    lease_expires_at: null, cancel_requested: false, not_before: input.not_before ?? null,
    created_at: formatTimestamp(now), created_by: actor, started_at: null, completed_at: null,
    exit_code: null, error: null, failed_on: [], history: [], artifacts: [], log: null,
    ...(input.schedule_id ? { schedule_id: input.schedule_id } : {}),
  };
}

function jobsOf(doc: JobsFile): JobRecord[] {
  return doc.jobs as JobRecord[];
}

function replaceJob(doc: JobsFile, job: JobRecord): JobsFile {
  return { ...doc, jobs: jobsOf(doc).map((j) => (j.id === job.id ? job : j)) };
}

function find(doc: JobsFile, id: string): JobRecord | Refusal {
  const j = jobsOf(doc).find((x) => x.id === id);
  return j ? structuredClone(j) : { code: 'E_NOT_FOUND', message: `no job ${id} in coordination/jobs.json (coord jobs list shows the queue; finished jobs may be archived: coord jobs list --archived)` };
}
const isRefusal = (x: unknown): x is Refusal => typeof x === 'object' && x !== null && 'code' in x && 'message' in x && !('id' in x);

/** Appends a job. @returns refusal E_INVALID when the id exists already */
export function addJob(doc: JobsFile, job: JobRecord): Transition {
  if (jobsOf(doc).some((j) => j.id === job.id)) return { ok: false, refusal: { code: 'E_INVALID', message: `job ${job.id} exists already` } };
  return { ok: true, doc: { ...doc, jobs: [...jobsOf(doc), job] }, job };
}

/** The facts about one builder that claiming needs (DESIGN.md section 4, "Claim"). */
export interface BuilderFacts {
  builder: string;
  arch: string;
  labels: readonly string[];
  grounded: boolean;
  /** Jobs this builder runs now. */
  running: number;
  maxConcurrent: number;
  cpuPercent: number | null;
  memoryPercent: number | null;
  maxCpuPercent: number;
  maxMemoryPercent: number;
}

/** The kinds of reason a builder may not run a job (for "why is it still queued" summaries). */
export type IneligibleKind = 'unknown_type' | 'not_allowed' | 'arch' | 'labels' | 'failed_on' | 'not_before';

/** Like {@link whyNotEligible}, with the kind of the reason. */
export function ineligibility(job: JobRecord, facts: Pick<BuilderFacts, 'builder' | 'arch' | 'labels'>, config: BuildConfigFile | null, now: number): { kind: IneligibleKind; message: string } | null {
  const type = config?.job_types?.[job.type];
  if (!type) return { kind: 'unknown_type', message: `unknown job type "${job.type}" (shared/build_config.json defines: ${Object.keys(config?.job_types ?? {}).join(', ') || 'none'})` };
  if (type.allowed_builders && !type.allowed_builders.includes(facts.builder)) return { kind: 'not_allowed', message: `type ${job.type} is allowed only on ${type.allowed_builders.join(', ')}` };
  if (job.requires.arch && job.requires.arch !== facts.arch) return { kind: 'arch', message: `requires arch ${job.requires.arch}, ${facts.builder} is ${facts.arch}` };
  const missing = (job.requires.labels ?? []).filter((l) => !facts.labels.includes(l));
  if (missing.length) return { kind: 'labels', message: `requires label(s) ${missing.join(', ')} that ${facts.builder} lacks` };
  if (job.failed_on.includes(facts.builder)) return { kind: 'failed_on', message: `failed on ${facts.builder} before` };
  if (job.not_before) {
    const t = parseTimestamp(job.not_before);
    if (t !== null && t > now) return { kind: 'not_before', message: `not before ${job.not_before}` };
  }
  return null;
}

/** Why `builder` may not run `job` now (null when it may). Queue-wide reasons are separate. */
export function whyNotEligible(job: JobRecord, facts: Pick<BuilderFacts, 'builder' | 'arch' | 'labels'>, config: BuildConfigFile | null, now: number): string | null {
  return ineligibility(job, facts, config, now)?.message ?? null;
}

/** Why this builder claims nothing at all now (paused, lock, grounded, limits), else null. */
export function whyBuilderIdle(doc: JobsFile, assignmentLockHolder: string | null, facts: BuilderFacts): string | null {
  if (doc.paused) return `queue paused by ${doc.paused.by}${doc.paused.reason ? `: ${doc.paused.reason}` : ''}`;
  if (assignmentLockHolder && assignmentLockHolder !== facts.builder) return `job_assignment lock held by ${assignmentLockHolder}`;
  if (facts.grounded) return `${facts.builder} is grounded`;
  if (facts.running >= facts.maxConcurrent) return `${facts.builder} runs ${facts.running} of ${facts.maxConcurrent} allowed jobs`;
  if (facts.cpuPercent !== null && facts.cpuPercent > facts.maxCpuPercent) return `CPU ${Math.round(facts.cpuPercent)}% over ${facts.maxCpuPercent}%`;
  if (facts.memoryPercent !== null && facts.memoryPercent > facts.maxMemoryPercent) return `memory ${Math.round(facts.memoryPercent)}% over ${facts.maxMemoryPercent}%`;
  return null;
}

/** Queue order: priority (1 first), then creation time, then id. */
export function queueOrder(a: JobRecord, b: JobRecord): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  const ta = parseTimestamp(a.created_at) ?? 0, tb = parseTimestamp(b.created_at) ?? 0;
  if (ta !== tb) return ta - tb;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The job `facts.builder` should claim next, or null. */
export function pickNextJob(doc: JobsFile, facts: BuilderFacts, config: BuildConfigFile | null, assignmentLockHolder: string | null, now: number): JobRecord | null {
  if (whyBuilderIdle(doc, assignmentLockHolder, facts)) return null;
  const queued = jobsOf(doc).filter((j) => j.status === 'queued' && !j.cancel_requested).sort(queueOrder);
  return queued.find((j) => whyNotEligible(j, facts, config, now) === null) ?? null;
}

/** queued → running for `builder`: attempt + 1, lease set. Re-checks the precondition. */
export function claimJob(doc: JobsFile, id: string, builder: string, now: number, leaseTtlS: number): Transition {
  const j = find(doc, id);
  if (isRefusal(j)) return { ok: false, refusal: j };
  if (j.status !== 'queued' || j.cancel_requested) return { ok: false, refusal: { code: 'E_CONTENTION', message: `job ${id} is ${j.status} now, not queued` } };
  const attempt = j.attempt + 1;
  const ts = formatTimestamp(now);
  const entry: AttemptRecord = { attempt, builder, claimed_at: ts, ended_at: null, status: 'running', exit_code: null, duration_seconds: null, error: null };
  const job: JobRecord = {
    ...j, status: 'running', assigned_to: builder, attempt, started_at: ts, completed_at: null,
    lease_expires_at: formatTimestamp(now + leaseTtlS * 1000), exit_code: null, error: null,
    history: [...j.history, entry],
  };
  return { ok: true, doc: replaceJob(doc, job), job };
}

/** The claim a runner holds: the fencing token is (builder, attempt). */
export interface Claim { id: string; builder: string; attempt: number }

function checkClaim(j: JobRecord, c: Claim): Refusal | null {
  if (j.status !== 'running' || j.assigned_to !== c.builder || j.attempt !== c.attempt) {
    return { code: 'E_CONTENTION', message: `lease lost: job ${c.id} is ${j.status} on ${j.assigned_to ?? 'nobody'} attempt ${j.attempt}, not ${c.builder} attempt ${c.attempt}`, details: { lease_lost: true } };
  }
  return null;
}

/** Extends the lease of a held claim. @returns refusal (lease lost) when the claim no longer matches */
export function renewLease(doc: JobsFile, c: Claim, now: number, leaseTtlS: number): Transition {
  const j = find(doc, c.id);
  if (isRefusal(j)) return { ok: false, refusal: { ...j, details: { lease_lost: true } } };
  const bad = checkClaim(j, c);
  if (bad) return { ok: false, refusal: bad };
  const job = { ...j, lease_expires_at: formatTimestamp(now + leaseTtlS * 1000) };
  return { ok: true, doc: replaceJob(doc, job), job };
}

export interface RunResult {
  outcome: 'completed' | 'failed' | 'cancelled' | 'timed_out';
  exitCode: number | null;
  error: string | null;
  durationS: number;
  artifacts?: { name: string; size: number; sha256: string }[];
  log?: string | null;
}

/**
 * Records the end of an attempt — accepted only while the claim still matches (fencing).
 * A failure adds the builder to `failed_on`; failing on two different builders blocks the
 * job; otherwise a failed attempt with attempts left goes back to the queue.
 */
export function completeJob(doc: JobsFile, c: Claim, r: RunResult, now: number): Transition {
  const j = find(doc, c.id);
  if (isRefusal(j)) return { ok: false, refusal: { ...j, details: { lease_lost: true } } };
  const bad = checkClaim(j, c);
  if (bad) return { ok: false, refusal: bad };
  const ts = formatTimestamp(now);
  const histStatus = r.outcome;
  const history = j.history.map((h) => (h.attempt === c.attempt && h.builder === c.builder
    ? { ...h, ended_at: ts, status: histStatus, exit_code: r.exitCode, duration_seconds: r.durationS, error: r.error }
    : h));
  let job: JobRecord = { ...j, history, exit_code: r.exitCode, error: r.error, lease_expires_at: null, cancel_requested: false, ...(r.log !== undefined ? { log: r.log } : {}) };
  if (r.outcome === 'completed') {
    job = { ...job, status: 'completed', completed_at: ts, artifacts: r.artifacts ?? [] };
  } else if (r.outcome === 'cancelled') {
    job = { ...job, status: 'cancelled', completed_at: ts };
  } else {
    const failedOn = job.failed_on.includes(c.builder) ? job.failed_on : [...job.failed_on, c.builder];
    job = { ...job, failed_on: failedOn };
    if (failedOn.length >= 2) job = { ...job, status: 'blocked', completed_at: ts, assigned_to: null };
    else if (job.attempt < job.max_attempts) job = { ...job, status: 'queued', assigned_to: null, completed_at: null };
    else job = { ...job, status: 'failed', completed_at: ts };
  }
  return { ok: true, doc: replaceJob(doc, job), job };
}

/**
 * A lease judged expired by an observer (section 5): requeue with attempts left, else
 * fail. The history entry of the lost attempt records `lease_lost`.
 */
export function expireLease(doc: JobsFile, id: string, expectedAttempt: number, now: number, observer: string): Transition {
  const j = find(doc, id);
  if (isRefusal(j)) return { ok: false, refusal: j };
  if (j.status !== 'running' || j.attempt !== expectedAttempt) return { ok: false, refusal: { code: 'E_CONTENTION', message: `job ${id} changed meanwhile` } };
  const ts = formatTimestamp(now);
  const history = j.history.map((h) => (h.attempt === j.attempt ? { ...h, ended_at: ts, status: 'lease_lost' as const, error: `lease expired (seen by ${observer})` } : h));
  const error = `lease of ${j.assigned_to ?? '?'} expired (attempt ${j.attempt})`;
  // A cancel requested while it ran is honoured, not lost: the owner that should have
  // recorded it is gone, so the job ends cancelled instead of running again.
  if (j.cancel_requested) {
    const job: JobRecord = { ...j, history, lease_expires_at: null, cancel_requested: false, status: 'cancelled', completed_at: ts, error: `cancelled on request; ${error}` };
    return { ok: true, doc: replaceJob(doc, job), job };
  }
  const left = j.attempt < j.max_attempts;
  const job: JobRecord = {
    ...j, history, lease_expires_at: null, cancel_requested: false,
    status: left ? 'queued' : 'failed', assigned_to: left ? null : j.assigned_to,
    completed_at: left ? null : ts, error,
  };
  return { ok: true, doc: replaceJob(doc, job), job };
}

/** Gives a running job back to the queue without counting it as failed (daemon shutdown). */
export function requeueJob(doc: JobsFile, c: Claim, now: number, reason: string): Transition {
  const j = find(doc, c.id);
  if (isRefusal(j)) return { ok: false, refusal: j };
  const bad = checkClaim(j, c);
  if (bad) return { ok: false, refusal: bad };
  const ts = formatTimestamp(now);
  const history = j.history.map((h) => (h.attempt === c.attempt ? { ...h, ended_at: ts, status: 'requeued' as const, error: reason } : h));
  // Queued with cancel_requested set, it would never be claimed nor ended: cancel it now.
  if (j.cancel_requested) {
    const job: JobRecord = { ...j, history, status: 'cancelled', lease_expires_at: null, cancel_requested: false, completed_at: ts, error: `cancelled on request; ${reason}` };
    return { ok: true, doc: replaceJob(doc, job), job };
  }
  // The attempt is given back: max_attempts grows so a drain does not use up the budget.
  const job: JobRecord = { ...j, history, status: 'queued', assigned_to: null, lease_expires_at: null, max_attempts: Math.min(100, j.max_attempts + 1), error: reason };
  return { ok: true, doc: replaceJob(doc, job), job };
}

/** queued → cancelled at once; running → cancel_requested (the owner stops it). */
export function cancelJob(doc: JobsFile, id: string, now: number): Transition {
  const j = find(doc, id);
  if (isRefusal(j)) return { ok: false, refusal: j };
  if (j.status === 'queued') {
    const job: JobRecord = { ...j, status: 'cancelled', completed_at: formatTimestamp(now), cancel_requested: false };
    return { ok: true, doc: replaceJob(doc, job), job };
  }
  if (j.status === 'running') {
    if (j.cancel_requested) return { ok: true, doc, job: j };
    const job: JobRecord = { ...j, cancel_requested: true };
    return { ok: true, doc: replaceJob(doc, job), job };
  }
  return { ok: false, refusal: { code: 'E_INVALID_STATE', message: `job ${id} is ${j.status} already; only queued or running jobs can be cancelled` } };
}

/** failed | blocked | cancelled → queued, `failed_on` cleared, attempts budget renewed. */
export function retryJob(doc: JobsFile, id: string, policy: Policy): Transition {
  const j = find(doc, id);
  if (isRefusal(j)) return { ok: false, refusal: j };
  if (!['failed', 'blocked', 'cancelled'].includes(j.status)) {
    return { ok: false, refusal: { code: 'E_INVALID_STATE', message: `job ${id} is ${j.status}; only failed, blocked or cancelled jobs can be retried` } };
  }
  // Attempt numbers never restart (they are the fencing token): the budget grows instead.
  const job: JobRecord = {
    ...j, status: 'queued', assigned_to: null, failed_on: [], completed_at: null, exit_code: null, error: null,
    lease_expires_at: null, cancel_requested: false, max_attempts: Math.min(100, j.attempt + policy.max_attempts),
  };
  return { ok: true, doc: replaceJob(doc, job), job };
}

/** Stops claiming fleet-wide (`paused` in jobs.json). Already paused: the same document back. */
export function pauseQueue(doc: JobsFile, by: string, reason: string | null, now: number): JobsFile {
  if (doc.paused) return doc;
  return { ...doc, paused: { by, at: formatTimestamp(now), ...(reason ? { reason } : {}) } };
}

/** Allows claiming again. Not paused: the same document back. */
export function resumeQueue(doc: JobsFile): JobsFile {
  return doc.paused ? { ...doc, paused: null } : doc;
}

/** One entry of jobs.json `grounded`. */
export type GroundingEntry = NonNullable<JobsFile['grounded']>[string];

/** Is grounding `g` in force at `now`? (An `until` that does not parse counts as in force.) */
export function isGroundingActive(g: GroundingEntry | null | undefined, now: number): g is GroundingEntry {
  if (!g) return false;
  const until = g.until ? parseTimestamp(g.until) : null;
  return until === null || until > now;
}

/**
 * Grounds `builder` by hand (circuit breaker, DESIGN.md section 4): it claims nothing until
 * ungrounded or `until` (epoch ms, null: until ungrounded) passes. Replaces an earlier
 * grounding unconditionally; operators go through {@link decideGrounding}.
 */
export function groundBuilder(doc: JobsFile, builder: string, by: string, reason: string, until: number | null, now: number): JobsFile {
  return { ...doc, grounded: { ...(doc.grounded ?? {}), [builder]: { by, at: formatTimestamp(now), reason, until: until === null ? null : formatTimestamp(until) } } };
}

/** Lifts a grounding. Not grounded: the same document back. */
export function ungroundBuilder(doc: JobsFile, builder: string): JobsFile {
  if (!doc.grounded?.[builder]) return doc;
  const { [builder]: _lifted, ...rest } = doc.grounded;
  return { ...doc, grounded: rest };
}

/** What `coord builder ground` asks for. */
export interface GroundRequest {
  by: string;
  reason: string;
  /** Epoch ms, or null: until ungrounded. Must be after `now`. */
  until: number | null;
  /** The operator gave terms of their own (--reason, --until or --for), not only the builder. */
  newTerms: boolean;
  /** --force: replace a grounding in force. */
  force: boolean;
}

export type GroundDecision =
  | { kind: 'ground'; doc: JobsFile; entry: GroundingEntry; replaced: GroundingEntry | null }
  | { kind: 'already'; entry: GroundingEntry }
  | { kind: 'refuse'; refusal: Refusal };

/** `by since at: reason (until U)`, the way the refusal and the command line name a grounding. */
export function describeGrounding(g: GroundingEntry): string {
  return `${g.by} since ${g.at}: ${g.reason} (${g.until ? `until ${g.until}` : 'until coord builder unground'})`;
}

/**
 * The operator's grounding transition (METHODOLOGY.md section 13, "Hardening after the third
 * trial"), re-checked on the fresh queue:
 * - `until` at or before `now` is refused (E_USAGE): the entry would be expired on arrival;
 * - a grounding in force is never replaced silently: without new terms (or with the same ones)
 *   the request is already met (`already`, like a second `queue pause`); with other terms it
 *   is refused (E_INVALID_STATE, naming who grounded it, since when, why and until when)
 *   unless `force`; a forced replacement returns the replaced entry so the caller can say
 *   what it replaced;
 * - an expired entry is simply replaced.
 */
export function decideGrounding(doc: JobsFile, builder: string, req: GroundRequest, now: number): GroundDecision {
  if (req.until !== null && req.until <= now) {
    return { kind: 'refuse', refusal: { code: 'E_USAGE', message: `the grounding would end at ${formatTimestamp(req.until)}, which has passed; give a future time (--until) or a duration (--for)` } };
  }
  const current = doc.grounded?.[builder];
  const active = isGroundingActive(current, now) ? current : null;
  if (active) {
    const sameTerms = active.reason === req.reason && (active.until ?? null) === (req.until === null ? null : formatTimestamp(req.until));
    if (!req.force && (!req.newTerms || sameTerms)) return { kind: 'already', entry: active };
    if (!req.force) {
      return {
        kind: 'refuse',
        refusal: {
          code: 'E_INVALID_STATE',
          message: `${builder} is already grounded by ${describeGrounding(active)}; add --force to replace that grounding, or coord builder unground ${builder} first`,
          details: { builder, grounded: active },
        },
      };
    }
  }
  const next = groundBuilder(doc, builder, req.by, req.reason, req.until, now);
  return { kind: 'ground', doc: next, entry: next.grounded![builder], replaced: active };
}
