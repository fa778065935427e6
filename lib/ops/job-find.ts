/**
 * Finding jobs by id in the queue on main, then in the archive (finished jobs move there
 * after policy.job_retention_days), and reading their committed log tails.
 */
import { CoordError } from '../errors.js';
import { readFilesAt } from '../git/repo.js';
import type { JobRecord } from '../jobs/model.js';
import { logPath } from '../store/kinds.js';
import { resolveIdFragment } from '../util/id-match.js';
import { jobRecords, jobsDoc, readArchivedJobs, type Snapshot } from './snapshot.js';

export interface FoundJob {
  job: JobRecord;
  archived: boolean;
}

/**
 * Every id of `ids` in the snapshot's queue, else in the archive. An id may be abbreviated
 * to any unique part of at least 4 characters (lib/util/id-match.ts), matched against the
 * queue and the archive together; the map is keyed by the text as typed.
 * @throws CoordError E_NOT_FOUND naming every unknown id
 * @throws CoordError E_USAGE for a fragment that is too short or matches several jobs
 */
export async function findJobs(repoRoot: string, s: Snapshot, ids: readonly string[], now: number): Promise<Map<string, FoundJob>> {
  const out = new Map<string, FoundJob>();
  const hot = jobRecords(jobsDoc(s));
  for (const id of ids) {
    const j = hot.find((x) => x.id === id);
    if (j) out.set(id, { job: j, archived: false });
  }
  const missing = ids.filter((id) => !out.has(id));
  if (missing.length) {
    // Not a whole id of the queue: an archived id, or a fragment of either.
    const archived = await readArchivedJobs(repoRoot, s.commit, now);
    const all = [...hot.map((job) => ({ job, archived: false })), ...archived.map((job) => ({ job, archived: true }))];
    const known = all.map((x) => x.job.id);
    for (const typed of missing) {
      const id = resolveIdFragment(known, typed, { noun: 'job', argument: 'ID' });
      const hit = id === null ? undefined : all.find((x) => x.job.id === id);
      if (hit) out.set(typed, hit);
    }
  }
  const unknown = ids.filter((id) => !out.has(id));
  if (unknown.length) {
    throw new CoordError('E_NOT_FOUND', `no job ${unknown.join(', ')} in coordination/jobs.json or the archive (coord jobs list shows the queue)`, { details: { unknown } });
  }
  return out;
}

/**
 * The full ids `typed` name (each a whole id or a unique fragment; see {@link findJobs}),
 * in order. Whole ids of the queue are returned without reading the archive.
 */
export async function resolveJobIds(repoRoot: string, s: Snapshot, typed: readonly string[], now: number): Promise<string[]> {
  const found = await findJobs(repoRoot, s, typed, now);
  return typed.map((t) => found.get(t)!.job.id);
}

/** The builder whose folder holds the job's log: the current holder, else the last attempt's. */
export function logBuilderOf(j: JobRecord): string | null {
  return j.assigned_to ?? (j.history ?? []).at(-1)?.builder ?? null;
}

/** The committed log tail of `j` at the snapshot's commit: path and text (null when none yet). */
export async function readJobLog(repoRoot: string, s: Snapshot, j: JobRecord): Promise<{ path: string | null; text: string | null }> {
  const b = logBuilderOf(j);
  const path = j.log ?? (b ? logPath(b, j.id) : null);
  if (!path || !s.commit) return { path, text: null };
  const bytes = (await readFilesAt(repoRoot, s.commit, [path])).get(path) ?? null;
  return { path, text: bytes ? bytes.toString('utf8') : null };
}
