/**
 * Claiming and ending a job by hand, for a script that runs the job itself instead of the
 * daemon: `coord jobs claim` and `coord jobs complete` (what the upstream `job_queue.sh
 * get-next` and `job_queue.sh complete` map to, METHODOLOGY.md "Jobs").
 *
 * The decisions are the daemon's own: {@link pickNextJob} + {@link claimJob} to claim,
 * {@link completeJob} (fenced by builder and attempt) to end. Each runs inside one
 * transaction, so it is re-decided on the fresh state after every lost compare-and-swap
 * and two builders can never both win a job.
 */
import { assertConfiguredBuilder } from '../config/identity.js';
import type { Policy } from '../config/policy.js';
import type { RemoteSpec } from '../git/repo.js';
import type { BuildConfigFile, JobsFile, LocksFile } from '../schemas/types.gen.js';
import { PATHS } from '../store/kinds.js';
import { runTransaction, type TxOutcome, type TxState } from '../tx/transaction.js';
import { parseTimestamp, type Clock } from '../util/time.js';
import {
  claimJob, completeJob, pickNextJob, queueOrder, whyBuilderIdle, whyNotEligible,
  type BuilderFacts, type JobRecord, type RunResult,
} from './model.js';

/** The lock that, when held by another builder, stops claiming (DESIGN.md section 4). */
export const ASSIGNMENT_LOCK = 'job_assignment';

/**
 * Who holds the `job_assignment` lock at `now` (epoch ms), or null when it is free or
 * expired. An entry counts until `expires_at` + `skewS` seconds, as the daemon judges it.
 */
export function assignmentLockHolder(locks: LocksFile | null, now: number, skewS: number): string | null {
  const lock = locks?.locks?.[ASSIGNMENT_LOCK];
  if (!lock) return null;
  return (parseTimestamp(lock.expires_at) ?? 0) + skewS * 1000 > now ? lock.locked_by : null;
}

/**
 * The claiming facts of `builder` for a claim by hand: arch, labels and limits from the
 * build config, grounding and running jobs from the queue. CPU and memory are not sampled
 * (null): the caller is a script about to run the job on this machine, not a daemon.
 */
export function manualBuilderFacts(builder: string, jobs: JobsFile, config: BuildConfigFile | null, now: number): BuilderFacts {
  const cfg = config?.builders?.[builder] ?? {};
  const g = jobs.grounded?.[builder];
  const grounded = Boolean(g && !(g.until && (parseTimestamp(g.until) ?? Infinity) <= now));
  const running = (jobs.jobs as JobRecord[]).filter((j) => j.status === 'running' && j.assigned_to === builder).length;
  return {
    builder, arch: cfg.arch ?? '', labels: cfg.labels ?? [], grounded, running,
    maxConcurrent: cfg.max_concurrent_jobs ?? 1, cpuPercent: null, memoryPercent: null,
    maxCpuPercent: cfg.max_cpu_percent ?? 100, maxMemoryPercent: cfg.max_memory_percent ?? 100,
  };
}

/** What a claim by hand decided: the job claimed, or why nothing was. */
export type ManualClaimDecision = { job: JobRecord; doc: JobsFile } | { job: null; reason: string };

/**
 * Pure: the claim `builder` makes on `jobs` at `now` — the job {@link pickNextJob} chooses,
 * moved to `running` by {@link claimJob} — or the reason it claims nothing (paused,
 * lock held, grounded, at its concurrency limit, or no queued job it may run).
 */
export function decideManualClaim(builder: string, jobs: JobsFile, locks: LocksFile | null, config: BuildConfigFile | null, policy: Policy, now: number): ManualClaimDecision {
  if (!config?.builders?.[builder]) {
    return { job: null, reason: `${builder} is not a configured builder (shared/build_config.json has: ${Object.keys(config?.builders ?? {}).join(', ') || 'none'})` };
  }
  const facts = manualBuilderFacts(builder, jobs, config, now);
  const holder = assignmentLockHolder(locks, now, policy.clock_skew_s);
  const idle = whyBuilderIdle(jobs, holder, facts);
  if (idle) return { job: null, reason: idle };
  const pick = pickNextJob(jobs, facts, config, holder, now);
  if (!pick) {
    const queued = (jobs.jobs as JobRecord[]).filter((j) => j.status === 'queued' && !j.cancel_requested).sort(queueOrder);
    if (!queued.length) return { job: null, reason: 'the queue holds no queued job' };
    const first = queued[0];
    return { job: null, reason: `none of the ${queued.length} queued job(s) may run on ${builder} now (first: ${first.id}: ${whyNotEligible(first, facts, config, now) ?? 'not eligible'})` };
  }
  const t = claimJob(jobs, pick.id, builder, now, policy.lease_ttl_s);
  if (!t.ok) return { job: null, reason: t.refusal.message };
  return { job: t.job, doc: t.doc };
}

/** Where and as whom a claim or completion by hand runs. */
export interface ManualJobOptions {
  repoRoot: string;
  builder: string;
  clock: Clock;
  remote?: RemoteSpec;
}

/** The outcome of {@link claimNextJobTx}. */
export type ManualClaimResult = { job: JobRecord; reason: null } | { job: null; reason: string };

const jobsOf = (s: TxState): JobsFile => (s.files.get(PATHS.jobs) as JobsFile | null) ?? { $schema: '../schemas/jobs.schema.json', paused: null, grounded: {}, jobs: [] };

/**
 * Claims the next job `builder` may run, in one transaction (`job.claim`, like the daemon).
 * The lease is set to `policy.lease_ttl_s`; it is judged expired only when the builder's
 * heartbeat stops too (DESIGN.md section 5), so keep `coord heartbeat` in cron while the
 * script runs the job, and end it with {@link completeClaimedJobTx}.
 * @returns the claimed job, or `job: null` with the reason nothing was claimed (no commit then)
 * @throws CoordError E_IDENTITY (exit 2, nothing written) when shared/build_config.json does
 *   not list `builder`; E_INVALID (a file invalid on the remote), E_UNREACHABLE, E_CONTENTION
 */
export async function claimNextJobTx(o: ManualJobOptions): Promise<TxOutcome<ManualClaimResult>> {
  await assertConfiguredBuilder(o.repoRoot, { builder: o.builder }, o.remote?.remote, o.remote?.branch);
  return runTransaction<ManualClaimResult>({
    repoRoot: o.repoRoot, actor: o.builder, action: 'job.claim', paths: [PATHS.jobs, PATHS.locks], clock: o.clock,
    ...(o.remote ? { remote: o.remote } : {}),
    mutate: (s, now) => {
      const d = decideManualClaim(o.builder, jobsOf(s), s.files.get(PATHS.locks) as LocksFile | null, s.config, s.policy, now);
      if (d.job === null) return { kind: 'noop', result: { job: null, reason: d.reason } };
      return {
        kind: 'commit', writes: new Map([[PATHS.jobs, d.doc]]), summary: `${d.job.id} attempt ${d.job.attempt}`,
        trailers: { Job: d.job.id, Attempt: String(d.job.attempt) }, result: { job: d.job, reason: null },
      };
    },
  });
}

/** Outcomes a script may report for a job it ran. */
export const MANUAL_OUTCOMES = ['completed', 'failed', 'cancelled'] as const;
export type ManualOutcome = (typeof MANUAL_OUTCOMES)[number];

/** What the script reports. */
export interface ManualCompletion {
  id: string;
  outcome: ManualOutcome;
  /** Run time in seconds; default: since the job's `started_at`. */
  durationS?: number | undefined;
  /** The job's exit code; default 0 for `completed`, else null. */
  exitCode?: number | null | undefined;
}

/**
 * Pure: ends `c.id`'s current attempt as `builder` reported it. Only the builder the job
 * is running on may end it (the fencing token is its current builder and attempt).
 * A failure follows the usual rules: requeued while attempts are left, blocked after two
 * builders failed it, else failed.
 */
export function decideManualCompletion(builder: string, jobs: JobsFile, c: ManualCompletion, now: number): { ok: true; doc: JobsFile; job: JobRecord } | { ok: false; code: 'E_NOT_FOUND' | 'E_INVALID_STATE'; message: string } {
  const j = (jobs.jobs as JobRecord[]).find((x) => x.id === c.id);
  if (!j) return { ok: false, code: 'E_NOT_FOUND', message: `no job ${c.id} in coordination/jobs.json (coord jobs list shows the queue)` };
  if (j.status !== 'running' || j.assigned_to !== builder) {
    return { ok: false, code: 'E_INVALID_STATE', message: `job ${c.id} is ${j.status}${j.assigned_to ? ` on ${j.assigned_to}` : ''}, not running on ${builder}: only the builder that claimed it ends it` };
  }
  const started = parseTimestamp(j.started_at ?? '') ?? now;
  const r: RunResult = {
    outcome: c.outcome,
    exitCode: c.exitCode !== undefined ? c.exitCode : c.outcome === 'completed' ? 0 : null,
    error: c.outcome === 'completed' ? null : `reported ${c.outcome} by ${builder} (coord jobs complete)`,
    durationS: c.durationS ?? Math.max(0, Math.round((now - started) / 1000)),
  };
  const t = completeJob(jobs, { id: j.id, builder, attempt: j.attempt }, r, now);
  if (!t.ok) return { ok: false, code: 'E_INVALID_STATE', message: t.refusal.message };
  return { ok: true, doc: t.doc, job: t.job };
}

/**
 * Ends a job this builder claimed by hand, in one transaction (`job.complete`).
 * @returns refused E_NOT_FOUND (unknown id) or E_INVALID_STATE (not running on this builder)
 * @throws CoordError E_IDENTITY (exit 2, nothing written) when shared/build_config.json does
 *   not list `builder`; E_INVALID, E_UNREACHABLE, E_CONTENTION
 */
export async function completeClaimedJobTx(o: ManualJobOptions, c: ManualCompletion): Promise<TxOutcome<JobRecord>> {
  await assertConfiguredBuilder(o.repoRoot, { builder: o.builder }, o.remote?.remote, o.remote?.branch);
  return runTransaction<JobRecord>({
    repoRoot: o.repoRoot, actor: o.builder, action: 'job.complete', paths: [PATHS.jobs], clock: o.clock,
    ...(o.remote ? { remote: o.remote } : {}),
    mutate: (s, now) => {
      const d = decideManualCompletion(o.builder, jobsOf(s), c, now);
      if (!d.ok) return { kind: 'refuse', refusal: { code: d.code, message: d.message, details: { job: c.id } } };
      return {
        kind: 'commit', writes: new Map([[PATHS.jobs, d.doc]]), summary: `${c.id} attempt ${d.job.attempt} ${d.job.status}`,
        trailers: { Job: c.id, Attempt: String(d.job.attempt), Result: d.job.status }, result: d.job,
      };
    },
  });
}
