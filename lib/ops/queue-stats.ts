/**
 * Queue figures for `coord jobs list` and `show`: queue positions, a rough wait estimate
 * from recent durations of the same type, filters and the listing order. Pure.
 *
 * The estimate (documented in README "Operator commands"): the median duration of the last
 * {@link RECENT} completed attempts per type; the work ahead of a queued job is the median
 * of every queued job before it plus the remaining median time of running jobs, divided by
 * the fleet's capacity (sum of `max_concurrent_jobs` of the builders that may run its type).
 * Unknown when no job of a type ahead has ever completed.
 */
import { queueOrder, type JobRecord } from '../jobs/model.js';
import type { BuildConfigFile } from '../schemas/types.gen.js';
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

export interface QueuePlace {
  /** 1-based position among queued jobs (queue order: priority, then age). */
  position: number;
  /** Rough seconds until a builder should take it; null when unknown. */
  estimated_wait_s: number | null;
}

function capacityFor(type: string, config: BuildConfigFile | null): number {
  const allowed = config?.job_types?.[type]?.allowed_builders;
  let cap = 0;
  for (const [b, c] of Object.entries(config?.builders ?? {})) {
    if (allowed && !allowed.includes(b)) continue;
    cap += c.max_concurrent_jobs ?? 1;
  }
  return Math.max(1, cap);
}

/** Position and estimated wait of every queued job. */
export function queuePlaces(jobs: readonly JobRecord[], config: BuildConfigFile | null, now: number, history: readonly JobRecord[] = jobs): Map<string, QueuePlace> {
  const med = typeDurations(history);
  const queued = jobs.filter((j) => j.status === 'queued' && !j.cancel_requested).sort(queueOrder);
  let running = 0;
  let runningKnown = true;
  for (const j of jobs.filter((x) => x.status === 'running')) {
    const m = med.get(j.type);
    if (m === undefined) { runningKnown = false; continue; }
    const started = parseTimestamp(j.started_at ?? '') ?? now;
    running += Math.max(0, m - (now - started) / 1000);
  }
  const out = new Map<string, QueuePlace>();
  let ahead = 0;
  let aheadKnown = runningKnown;
  queued.forEach((j, i) => {
    const notBefore = j.not_before ? (parseTimestamp(j.not_before) ?? now) : now;
    const held = Math.max(0, (notBefore - now) / 1000);
    // A job held by not_before waits at least until then, whatever is ahead of it.
    const wait = aheadKnown ? Math.round(Math.max(held, (ahead + running) / capacityFor(j.type, config))) : null;
    out.set(j.id, { position: i + 1, estimated_wait_s: wait });
    const m = med.get(j.type);
    if (m === undefined) aheadKnown = false;
    else ahead += m;
  });
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
