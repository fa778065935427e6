/**
 * `coord jobs wait`: poll the remote's main until every job has ended (completed, failed,
 * cancelled or blocked), or a timeout passes.
 */
import type { JobRecord } from '../jobs/model.js';
import { PATHS } from '../store/kinds.js';
import type { Clock } from '../util/time.js';
import { findJobs } from './job-find.js';
import { readSnapshot, requireValid } from './snapshot.js';

/** Statuses after which a job changes no more by itself (`blocked` needs a retry). */
export const ENDED: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled', 'blocked']);

export interface WaitOptions {
  /** Seconds; null waits for ever. */
  timeoutS: number | null;
  intervalMs: number;
  clock: Clock;
  sleep?: (ms: number) => Promise<void>;
  /** Called after every poll with the jobs as they are. */
  onPoll?: (jobs: JobRecord[], elapsedMs: number) => void;
}

export interface WaitResult {
  jobs: JobRecord[];
  timedOut: boolean;
  elapsedMs: number;
  /** The last poll could not reach the remote (state as of the last fetch). */
  stale: boolean;
  /** At least one poll fetched the remote (false: every poll used the last fetched state). */
  reachedRemote: boolean;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls until all of `ids` ended. Each id may be a unique fragment (resolved at the first
 * poll, then followed by its full id; see findJobs).
 * @throws CoordError E_NOT_FOUND at the first poll for an unknown id, E_USAGE for an
 *   ambiguous or too short fragment
 */
export async function waitForJobs(repoRoot: string, typed: readonly string[], o: WaitOptions): Promise<WaitResult> {
  const sleep = o.sleep ?? realSleep;
  const start = o.clock.monotonic();
  let ids = [...typed];
  let reachedRemote = false;
  for (;;) {
    const s = await readSnapshot(repoRoot, [PATHS.jobs], { now: o.clock.now() });
    requireValid(s, [PATHS.jobs]);
    if (s.fresh) reachedRemote = true;
    const found = await findJobs(repoRoot, s, ids, o.clock.now());
    const jobs = ids.map((id) => found.get(id)!.job);
    ids = [...new Set(jobs.map((j) => j.id))];
    const elapsedMs = o.clock.monotonic() - start;
    o.onPoll?.(jobs, elapsedMs);
    const done = { jobs, elapsedMs, stale: !s.fresh, reachedRemote };
    if (jobs.every((j) => ENDED.has(j.status))) return { ...done, timedOut: false };
    if (o.timeoutS !== null && elapsedMs >= o.timeoutS * 1000) return { ...done, timedOut: true };
    const left = o.timeoutS === null ? o.intervalMs : Math.min(o.intervalMs, o.timeoutS * 1000 - elapsedMs);
    await sleep(Math.max(50, left));
  }
}
