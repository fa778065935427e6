/**
 * What read-only operator commands look at: the coordination files on the remote's `main`
 * as just fetched (never the working tree, which an agent may be editing), validated the
 * way the transaction engine validates them. When the remote cannot be reached the last
 * fetched state is shown, with a warning that says how old it is.
 */
import type { Policy } from '../config/policy.js';
import { CoordError, type Issue } from '../errors.js';
import { classifyTransportFailure } from '../git/classify.js';
import { DEFAULT_REMOTE, fetchBranch, readFilesAt, resolveCommit, trackingRef, type RemoteSpec } from '../git/repo.js';
import { git } from '../git/run.js';
import { HEARTBEAT_FETCH_REFSPEC } from '../heartbeat/refs.js';
import type { JobRecord } from '../jobs/model.js';
import type { ArchiveFile, BuildConfigFile, JobsFile } from '../schemas/types.gen.js';
import { checkCoordinationFile } from '../store/check.js';
import { contextFromConfigBytes } from '../store/context.js';
import { PATHS, schemaRefFor } from '../store/kinds.js';

export interface Snapshot {
  /** The commit of the remote's main the files were read from (null: nothing fetched yet). */
  commit: string | null;
  /** False when the fetch failed and an older state is shown. */
  fresh: boolean;
  /** Things to tell the reader (stale view, invalid optional files). */
  warnings: string[];
  config: BuildConfigFile | null;
  policy: Policy;
  /** path → canonical value, or null when missing or invalid (see `issues`). */
  files: Map<string, unknown>;
  issues: Issue[];
}

export interface SnapshotOptions {
  remote?: RemoteSpec;
  /** Also fetch every builder's heartbeat ref (for status). */
  heartbeats?: boolean;
  /** Skip the fetch (the caller fetched a moment ago). */
  noFetch?: boolean;
  now: number;
}

/**
 * Fetches and reads `paths` (plus the build config) at the remote's main.
 * @throws CoordError E_UNREACHABLE / E_AUTH when the remote cannot be used and nothing was ever fetched
 */
export async function readSnapshot(repoRoot: string, paths: readonly string[], o: SnapshotOptions): Promise<Snapshot> {
  const spec = o.remote ?? DEFAULT_REMOTE;
  const warnings: string[] = [];
  let fresh = true;
  if (!o.noFetch) {
    const fail = await fetchBranch(repoRoot, spec, o.heartbeats ? [HEARTBEAT_FETCH_REFSPEC] : []);
    if (fail) {
      const f = classifyTransportFailure(fail);
      const line = f.detail.split('\n')[0] ?? f.kind;
      if (!(await resolveCommit(repoRoot, trackingRef(spec)))) {
        throw new CoordError(f.kind === 'auth' ? 'E_AUTH' : f.kind === 'unreachable' ? 'E_UNREACHABLE' : 'E_GIT', `cannot read ${spec.remote}/${spec.branch}: ${line}`);
      }
      fresh = false;
      warnings.push(`remote ${spec.remote} not reachable (${line}); showing the state as of the last fetch`);
    }
  }
  const commit = await resolveCommit(repoRoot, trackingRef(spec));
  const all = [...new Set([PATHS.buildConfig, ...paths])];
  const bytes = commit ? await readFilesAt(repoRoot, commit, all) : new Map<string, Buffer | null>();
  const ctx = contextFromConfigBytes(bytes.get(PATHS.buildConfig) ?? null, o.now);
  const files = new Map<string, unknown>();
  const issues: Issue[] = [];
  for (const p of all) {
    const b = bytes.get(p) ?? null;
    if (!b) { files.set(p, null); continue; }
    const r = checkCoordinationFile(p, b, ctx);
    const errors = r.issues.filter((i) => i.severity === 'error');
    if (errors.length) issues.push(...errors);
    files.set(p, r.ok ? r.value : null);
  }
  return { commit, fresh, warnings, config: ctx.config, policy: ctx.policy, files, issues };
}

/**
 * Refuses to go on when one of `paths` is invalid on main (a bad hand edit): showing a
 * half-read queue would mislead more than it helps.
 * @throws CoordError E_INVALID with the file, JSON pointer and reason of every problem
 */
export function requireValid(s: Snapshot, paths: readonly string[]): void {
  const bad = s.issues.filter((i) => paths.includes(i.file));
  if (bad.length) {
    throw new CoordError('E_INVALID', `${[...new Set(bad.map((i) => i.file))].join(', ')} on the remote's main is invalid; fix it by hand (coord validate shows where)`, { issues: bad });
  }
}

/** The queue document of a snapshot (an empty queue when the file is missing). */
export function jobsDoc(s: Snapshot): JobsFile {
  return (s.files.get(PATHS.jobs) as JobsFile | null) ?? { $schema: schemaRefFor(PATHS.jobs, 'jobs.schema.json'), paused: null, grounded: {}, jobs: [] };
}

/** The jobs of a queue document as complete records (the store fills defaults on reading). */
export function jobRecords(doc: JobsFile): JobRecord[] {
  return doc.jobs as JobRecord[];
}

/** Every finished job in `coordination/archive/jobs-*.json` at `commit`, newest month first. */
export async function readArchivedJobs(repoRoot: string, commit: string | null, now: number): Promise<JobRecord[]> {
  if (!commit) return [];
  const ls = await git(repoRoot, ['ls-tree', '--name-only', `${commit}:coordination/archive`], { allowFailure: true });
  if (ls.exitCode !== 0) return [];
  const files = ls.stdout.split('\n').filter((n) => /^jobs-[0-9]{4}-[0-9]{2}\.json$/.test(n)).sort().reverse().map((n) => `coordination/archive/${n}`);
  const bytes = await readFilesAt(repoRoot, commit, files);
  const ctx = contextFromConfigBytes((await readFilesAt(repoRoot, commit, [PATHS.buildConfig])).get(PATHS.buildConfig) ?? null, now);
  const out: JobRecord[] = [];
  for (const f of files) {
    const b = bytes.get(f);
    if (!b) continue;
    const r = checkCoordinationFile(f, b, ctx);
    if (!r.ok) continue;
    out.push(...((r.value as ArchiveFile).records as JobRecord[]));
  }
  return out;
}
