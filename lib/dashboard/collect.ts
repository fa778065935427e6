/**
 * Reading what the dashboard shows from a repository: the fleet as `coord status` reads
 * it (lib/ops/fleet-read.ts: fetch main and the heartbeat refs, judge ages by this
 * observer's clock), the archived jobs for the chart, and the commit time of the state
 * read. Read-only towards shared state: it writes only this observer's sightings
 * (`.git/coord/observations.json`) like `coord status` does.
 */
import type { RemoteSpec } from '../git/repo.js';
import { git } from '../git/run.js';
import type { JobRecord } from '../jobs/model.js';
import { readFleet } from '../ops/fleet-read.js';
import { readArchivedJobs } from '../ops/snapshot.js';
import type { DashboardData } from './model.js';

/** Keeps the archived jobs of the last commit read, so a live page re-reads them only when main moves. */
export interface ArchiveCache {
  commit: string | null;
  jobs: JobRecord[];
}

export interface CollectOptions {
  /** Observer's now, epoch ms. */
  now: number;
  remote?: RemoteSpec;
  /** Skip the fetch (tests; a caller that fetched a moment ago). */
  noFetch?: boolean;
  /** Observer's epoch ms of the previous successful fetch (used when this one fails). */
  lastFetchOkMs?: number | null;
  archiveCache?: ArchiveCache;
}

async function commitTimeMs(repoRoot: string, commit: string | null): Promise<number | null> {
  if (!commit) return null;
  const r = await git(repoRoot, ['show', '-s', '--format=%ct', commit], { allowFailure: true });
  const s = Number(r.stdout.trim());
  return r.exitCode === 0 && Number.isFinite(s) && s > 0 ? s * 1000 : null;
}

/**
 * Fetches and reads everything the page needs.
 * @throws CoordError E_INVALID when jobs.json or locks.json on the remote's main is invalid;
 *   E_UNREACHABLE / E_AUTH when the remote cannot be fetched and nothing was ever fetched
 */
export async function collectDashboardData(repoRoot: string, o: CollectOptions): Promise<DashboardData> {
  const r = await readFleet(repoRoot, { now: o.now, ...(o.remote ? { remote: o.remote } : {}), ...(o.noFetch ? { noFetch: true } : {}) });
  const commit = r.snapshot.commit;
  let archived: JobRecord[];
  if (o.archiveCache && o.archiveCache.commit === commit && commit !== null) archived = o.archiveCache.jobs;
  else {
    archived = await readArchivedJobs(repoRoot, commit, o.now);
    if (o.archiveCache) { o.archiveCache.commit = commit; o.archiveCache.jobs = archived; }
  }
  const fresh = r.snapshot.fresh;
  return {
    fleet: r.input,
    archived,
    source: {
      commit, commitTimeMs: await commitTimeMs(repoRoot, commit), fresh,
      fetchedAtMs: fresh && !o.noFetch ? o.now : (o.lastFetchOkMs ?? null),
      warnings: [...r.snapshot.warnings],
    },
  };
}
