/**
 * Queue figures for `coord jobs list` and `show`: queue positions, a rough wait estimate
 * from recent durations of the same type, filters and the listing order. Pure.
 *
 * The estimate (documented in README "Operator commands"): the median duration of the last
 * {@link RECENT} completed attempts per type; the work ahead of a queued job is the median
 * of every queued job before it that competes for the same builders plus the remaining
 * median time of the jobs running on them, divided by their job slots (`max_concurrent_jobs`
 * of the ungrounded builders that may run it). Unknown when a type ahead never completed,
 * while the queue is paused, and for a job no builder can (or, grounded, may) run.
 */
import { ineligibility, isGroundingActive, queueOrder, type JobRecord } from '../jobs/model.js';
import type { BuildConfigFile, JobsFile } from '../schemas/types.gen.js';
import { parseTimestamp } from '../util/time.js';

/** How many recent completed attempts per type feed the median. */
export const RECENT = 10;

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Median seconds of the last {@link RECENT} completed attempts, per type. */
export function typeDurations(jobs: readonly JobRecord[]): Map<string, number> {
  const samples = new Map<string, { at: number; s: number }[]>();
  for (const j of jobs) {
    for (const h of j.history ?? []) {
      if (h.status !== 'completed' || typeof h.duration_seconds !== 'number') continue;
      const list = samples.get(j.type) ?? [];
      list.push({ at: parseTimestamp(h.ended_at ?? '') ?? 0, s: h.duration_seconds });
      samples.set(j.type, list);
    }
  }
  const out = new Map<string, number>();
  for (const [t, list] of samples) {
    const m = median(list.sort((a, b) => b.at - a.at).slice(0, RECENT).map((x) => x.s));
    if (m !== null) out.set(t, m);
  }
  return out;
}

/** Why a queued job has no estimated wait (README "Estimated wait"). */
export type WaitReason =
  /** The queue is paused: nothing is claimed until `coord queue resume`. */
  | 'paused'
  /** No configured builder can ever run it (type unknown or allowed nowhere, requirements met nowhere, failed on every one). */
  | 'no_builder'
  /** Every builder that could run it is grounded. */
  | 'grounded'
  /** A job of a type that never completed is ahead of it (or running on its builders). */
  | 'no_history';

export interface QueuePlace {
  /**
   * 1-based position among the queued jobs some builder can take now (queue order: priority,
   * then age); null for a job no builder can run or whose builders are all grounded — such a
   * job is not counted in anyone's position.
   */
  position: number | null;
  /** Rough seconds until a builder should take it; null when unknown (see `wait_reason`). */
  estimated_wait_s: number | null;
  /** Why `estimated_wait_s` is null, else null. */
  wait_reason: WaitReason | null;
}

/** The queue-wide flags of jobs.json that hold jobs back. */
export type QueueFlags = Partial<Pick<JobsFile, 'paused' | 'grounded'>>;

/**
 * The configured builders that may run `job` at some point (its type allowed there,
 * requirements met, not failed there before; `not_before` is waited for, not a bar).
 */
export function eligibleBuilders(job: JobRecord, config: BuildConfigFile | null, now: number): string[] {
  return Object.entries(config?.builders ?? {})
    .filter(([b, c]) => {
      const why = ineligibility(job, { builder: b, arch: c.arch ?? '', labels: c.labels ?? [] }, config, now);
      return why === null || why.kind === 'not_before';
    })
    .map(([b]) => b);
}

/**
 * Position and estimated wait of every queued job (pure). Only the work that competes for
 * a job's builders counts: the queued jobs before it that some of the same (ungrounded)
 * builders may run, and what is left of the jobs running on those builders, divided by
 * their job slots. A job no builder can run, or whose builders are all grounded, gets no
 * position and is not counted ahead of others; while the queue is paused nothing has an
 * estimate (positions stay: the order claiming resumes in).
 * @param history jobs whose completed attempts give the per-type medians (default `jobs`)
 * @param flags jobs.json `paused` and `grounded` (default: neither)
 */
export function queuePlaces(jobs: readonly JobRecord[], config: BuildConfigFile | null, now: number, history: readonly JobRecord[] = jobs, flags: QueueFlags = {}): Map<string, QueuePlace> {
  const med = typeDurations(history);
  const grounded = new Set(Object.entries(flags.grounded ?? {}).filter(([, g]) => isGroundingActive(g, now)).map(([b]) => b));
  const slots = new Map(Object.entries(config?.builders ?? {}).map(([b, c]) => [b, c.max_concurrent_jobs ?? 1]));
  // What is left of the running jobs, per builder (unknown: a type that never completed).
  const running = new Map<string, { s: number; known: boolean }>();
  for (const j of jobs) {
    if (j.status !== 'running' || !j.assigned_to) continue;
    const r = running.get(j.assigned_to) ?? { s: 0, known: true };
    const m = med.get(j.type);
    if (m === undefined) r.known = false;
    else r.s += Math.max(0, m - (now - (parseTimestamp(j.started_at ?? '') ?? now)) / 1000);
    running.set(j.assigned_to, r);
  }
  // The queued work ahead, grouped by the set of builders that may take it (few distinct sets).
  const groups = new Map<string, { builders: ReadonlySet<string>; s: number; known: boolean }>();
  const queued = jobs.filter((j) => j.status === 'queued' && !j.cancel_requested).sort(queueOrder);
  const out = new Map<string, QueuePlace>();
  let position = 0;
  for (const j of queued) {
    const eligible = eligibleBuilders(j, config, now);
    const takers = eligible.filter((b) => !grounded.has(b));
    if (!takers.length) {
      out.set(j.id, { position: null, estimated_wait_s: null, wait_reason: eligible.length ? 'grounded' : 'no_builder' });
      continue;
    }
    position++;
    let ahead = 0, known = true, capacity = 0;
    for (const b of takers) {
      capacity += slots.get(b) ?? 1;
      const r = running.get(b);
      if (r) { ahead += r.s; known &&= r.known; }
    }
    for (const g of groups.values()) {
      if (takers.some((b) => g.builders.has(b))) { ahead += g.s; known &&= g.known; }
    }
    const notBefore = j.not_before ? (parseTimestamp(j.not_before) ?? now) : now;
    const held = Math.max(0, (notBefore - now) / 1000);
    // A job held by not_before waits at least until then, whatever is ahead of it.
    const reason: WaitReason | null = flags.paused ? 'paused' : known ? null : 'no_history';
    out.set(j.id, { position, estimated_wait_s: reason ? null : Math.round(Math.max(held, ahead / Math.max(1, capacity))), wait_reason: reason });
    const key = takers.join(' ');
    const g = groups.get(key) ?? { builders: new Set(takers), s: 0, known: true };
    const m = med.get(j.type);
    if (m === undefined) g.known = false;
    else g.s += m;
    groups.set(key, g);
  }
  return out;
}

export interface JobFilter {
  statuses?: readonly string[];
  builder?: string;
  type?: string;
}

/** Does `j` match the filter? `builder` matches the current holder or any attempt's builder. */
export function matchesFilter(j: JobRecord, f: JobFilter): boolean {
  if (f.statuses?.length && !f.statuses.includes(j.status)) return false;
  if (f.type && j.type !== f.type) return false;
  if (f.builder && j.assigned_to !== f.builder && !(j.history ?? []).some((h) => h.builder === f.builder)) return false;
  return true;
}

const RANK: Record<string, number> = { running: 0, queued: 1 };

/**
 * Listing order: running (oldest start first), queued (queue order), then finished and
 * blocked jobs newest first.
 */
export function listingOrder(a: JobRecord, b: JobRecord): number {
  const ra = RANK[a.status] ?? 2, rb = RANK[b.status] ?? 2;
  if (ra !== rb) return ra - rb;
  if (a.status === 'queued') return queueOrder(a, b);
  if (a.status === 'running') return (parseTimestamp(a.started_at ?? '') ?? 0) - (parseTimestamp(b.started_at ?? '') ?? 0);
  const ta = parseTimestamp(a.completed_at ?? a.created_at) ?? 0, tb = parseTimestamp(b.completed_at ?? b.created_at) ?? 0;
  return tb - ta || (a.id < b.id ? 1 : -1);
}

/** Seconds a job ran (or has run so far), else null. */
export function jobDurationS(j: JobRecord, now: number): number | null {
  const start = parseTimestamp(j.started_at ?? '');
  if (start === null) return null;
  const end = j.status === 'running' ? now : parseTimestamp(j.completed_at ?? '');
  if (end === null) return null;
  return Math.max(0, Math.round((end - start) / 1000));
}
