/**
 * "Why is it still queued?" (issue 6, `coord jobs show`): for every configured builder the
 * reason it does not take the job now — the job's own requirements (lib/jobs/model
 * ineligibility: type, allowed builders, arch, labels, failed before, not_before), then the
 * builder's state (whyBuilderIdle: paused, job_assignment lock, grounded, busy, CPU, memory)
 * and its liveness — and one summary line: what no resume would fix (unknown type, no
 * builder meets the requirements, failed on every one) before a pause. Pure.
 */
import { ineligibility, whyBuilderIdle, type IneligibleKind, type JobRecord } from '../jobs/model.js';
import { activeHolder, JOB_ASSIGNMENT_LOCK } from '../locks/model.js';
import { builderFacts, builderHealth, type FleetInput } from './fleet-status.js';

export interface BuilderVerdict {
  builder: string;
  /** The job's requirements allow this builder. */
  eligible: boolean;
  /** It would claim the job at its next poll (eligible, not idle-blocked, alive). */
  would_claim: boolean;
  /** Why not, else null. */
  reason: string | null;
}

export interface QueuedExplanation {
  summary: string;
  builders: BuilderVerdict[];
}

const REQUIREMENT_KINDS: ReadonlySet<IneligibleKind> = new Set(['not_allowed', 'arch', 'labels']);

/**
 * Explains why queued job `job` is not running.
 * @param ahead number of queued jobs before it in queue order
 */
export function explainQueued(job: JobRecord, input: FleetInput, ahead: number): QueuedExplanation {
  const builders = Object.keys(input.config?.builders ?? {});
  const holder = activeHolder(input.locks, JOB_ASSIGNMENT_LOCK, input.lockJudge);
  const kinds: (IneligibleKind | null)[] = [];
  const verdicts = builders.map((b): BuilderVerdict => {
    const facts = builderFacts(b, input);
    const why = ineligibility(job, facts, input.config, input.now);
    kinds.push(why?.kind ?? null);
    if (why) return { builder: b, eligible: false, would_claim: false, reason: why.message };
    const idle = whyBuilderIdle(input.jobs, holder, facts);
    if (idle) return { builder: b, eligible: true, would_claim: false, reason: idle };
    const h = builderHealth(b, input);
    if (h.health === 'offline' || h.health === 'stale') return { builder: b, eligible: true, would_claim: false, reason: `${b} is ${h.health}: ${h.reason ?? ''}`.trim() };
    return { builder: b, eligible: true, would_claim: true, reason: null };
  });
  return { summary: summarize(job, input, verdicts, kinds, ahead), builders: verdicts };
}

function summarize(job: JobRecord, input: FleetInput, v: BuilderVerdict[], kinds: (IneligibleKind | null)[], ahead: number): string {
  const p = input.jobs.paused;
  const firstOf = (k: IneligibleKind) => v[kinds.indexOf(k)]?.reason ?? '';
  // What no resume would fix comes first: a job nobody can ever run is not waiting for the pause.
  if (v.length && kinds.includes('unknown_type')) return `${firstOf('unknown_type')}; nothing will run it until the type is defined or the job cancelled`;
  if (v.length && kinds.every((k) => k !== null && REQUIREMENT_KINDS.has(k))) {
    return `no builder allows the type or meets its requirements: ${v.map((x) => x.reason).join('; ')}`;
  }
  if (v.length && kinds.every((k) => k !== null && (REQUIREMENT_KINDS.has(k) || k === 'failed_on'))) {
    return `it failed on every builder that may run it (${v.filter((_, i) => kinds[i] === 'failed_on').map((x) => x.builder).join(', ')}); cancel it and add it again, or configure another builder for it`;
  }
  if (p) return `the queue is paused by ${p.by} since ${p.at}${p.reason ? ` (${p.reason})` : ''}; coord queue resume starts claiming again`;
  if (!v.length) return 'no builders are configured in shared/build_config.json';
  if (kinds.includes('not_before')) return `it waits until ${job.not_before ?? '?'} (not_before)`;
  const claimers = v.filter((x) => x.would_claim).map((x) => x.builder);
  if (!claimers.length) return `every builder that may run it (${v.filter((x) => x.eligible).map((x) => x.builder).join(', ')}) is busy, grounded, held back or offline (reasons per builder below)`;
  if (ahead > 0) return `waiting its turn: ${ahead} queued job(s) ahead of it; ${claimers.join(', ')} may take it`;
  return `next in line: ${claimers.join(', ')} should claim it at the next poll`;
}
