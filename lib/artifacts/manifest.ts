/**
 * The artifact manifest, shared/artifacts.json (DESIGN.md section 4, "Artifacts"): the files
 * stay on the builder that made them; git holds name, size, sha256, builder, job and
 * attempt. A job retried on another builder has entries from each attempt; the latest
 * attempt's entry is the one that counts.
 */
import { CoordError } from '../errors.js';
import type { ArtifactsFile } from '../schemas/types.gen.js';
import { readSharedFiles, refreshMain } from '../ssh/shared-files.js';
import { PATHS } from '../store/kinds.js';
import { parseTimestamp, systemClock, type Clock } from '../util/time.js';

export type ArtifactEntry = ArtifactsFile['artifacts'][number];

/**
 * The entries that count: per job and name, the highest attempt (then the latest
 * `created_at`), ordered by job, then name. Optionally only `job`, and only `name`. Pure.
 */
export function currentArtifacts(entries: readonly ArtifactEntry[], job?: string, name?: string): ArtifactEntry[] {
  const best = new Map<string, ArtifactEntry>();
  for (const e of entries) {
    if (job !== undefined && e.job_id !== job) continue;
    if (name !== undefined && e.name !== name) continue;
    const key = `${e.job_id}\0${e.name}`;
    const prev = best.get(key);
    const newer = !prev
      || (e.attempt ?? 0) > (prev.attempt ?? 0)
      || ((e.attempt ?? 0) === (prev.attempt ?? 0) && (parseTimestamp(e.created_at) ?? 0) >= (parseTimestamp(prev.created_at) ?? 0));
    if (newer) best.set(key, e);
  }
  return [...best.values()].sort((a, b) => a.job_id.localeCompare(b.job_id) || a.name.localeCompare(b.name));
}

export interface ArtifactListing {
  artifacts: ArtifactEntry[];
  /** The commit of main read (null: the working tree of a clone that never fetched). */
  commit: string | null;
  warnings: string[];
}

export interface ListOptions {
  job?: string;
  /** Skip the fetch of main (a caller that fetched a moment ago). */
  noFetch?: boolean;
  clock?: Clock;
}

/**
 * The current artifacts (all, or of one job) from shared/artifacts.json on main, fetched
 * first (when the fetch fails, the last fetched state is used and a warning says so).
 * @throws CoordError E_INVALID when shared/artifacts.json or the build config is invalid
 */
export async function listArtifacts(repoRoot: string, o: ListOptions = {}): Promise<ArtifactListing & { all: ArtifactEntry[] }> {
  const warnings: string[] = [];
  if (!o.noFetch) {
    const w = await refreshMain(repoRoot);
    if (w) warnings.push(w);
  }
  const shared = await readSharedFiles(repoRoot, [PATHS.artifacts], (o.clock ?? systemClock).now());
  const file = shared.files.get(PATHS.artifacts) as ArtifactsFile | null;
  const all = file?.artifacts ?? [];
  return { artifacts: currentArtifacts(all, o.job), all, commit: shared.commit, warnings };
}

/**
 * The entries to fetch for `job` (and `name`).
 * @throws CoordError E_NOT_FOUND naming the job (and name), and what the manifest has
 */
export function artifactsToFetch(all: readonly ArtifactEntry[], job: string, name?: string): ArtifactEntry[] {
  const found = currentArtifacts(all, job, name);
  if (found.length) return found;
  const ofJob = currentArtifacts(all, job);
  if (name !== undefined && ofJob.length) {
    throw new CoordError('E_NOT_FOUND', `job ${job} has no artifact ${JSON.stringify(name)} in shared/artifacts.json; it has: ${ofJob.map((e) => e.name).join(', ')}`, { details: { job, name } });
  }
  throw new CoordError('E_NOT_FOUND', `job ${job} has no artifacts in shared/artifacts.json (coord artifacts list shows what there is)`, { details: { job } });
}
