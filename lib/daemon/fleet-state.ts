/**
 * Reading the shared state a daemon tick needs from the remote-tracking branch (no
 * working tree involved), validated the same way the transaction engine validates.
 */
import type { Policy } from '../config/policy.js';
import type { BuildConfigFile, JobsFile, LocksFile, SchedulesFile, StatusFile } from '../schemas/types.gen.js';
import { CoordError, type Issue } from '../errors.js';
import { readFilesAt, resolveCommit, trackingRef, type RemoteSpec } from '../git/repo.js';
import { checkCoordinationFile } from '../store/check.js';
import { contextFromConfigBytes } from '../store/context.js';
import { PATHS, statusPath } from '../store/kinds.js';

export interface FleetState {
  commit: string | null;
  config: BuildConfigFile | null;
  policy: Policy;
  jobs: JobsFile;
  locks: LocksFile;
  schedules: SchedulesFile;
  /** This builder's status.json on main. */
  ownStatus: StatusFile | null;
}

/** @throws CoordError E_INVALID naming file and pointer when a file on main is invalid */
export async function readFleetState(repoRoot: string, spec: RemoteSpec, builder: string, now: number): Promise<FleetState> {
  const commit = await resolveCommit(repoRoot, trackingRef(spec));
  const paths = [PATHS.buildConfig, PATHS.jobs, PATHS.locks, PATHS.schedules, statusPath(builder)];
  const bytes = commit ? await readFilesAt(repoRoot, commit, paths) : new Map<string, Buffer | null>();
  const ctx = contextFromConfigBytes(bytes.get(PATHS.buildConfig) ?? null, now);
  const issues: Issue[] = [];
  const values = new Map<string, unknown>();
  for (const p of paths) {
    const b = bytes.get(p) ?? null;
    if (!b) continue;
    const r = checkCoordinationFile(p, b, ctx);
    if (!r.ok) issues.push(...r.issues.filter((i) => i.severity === 'error'));
    else values.set(p, r.value);
  }
  if (issues.length) throw new CoordError('E_INVALID', `invalid file on main: ${issues.map((i) => `${i.file}: ${i.pointer || '/'}: ${i.reason}`).join('; ')}`, { issues });
  if (!ctx.config) throw new CoordError('E_INVALID', `${PATHS.buildConfig} is missing on main`);
  return {
    commit, config: ctx.config, policy: ctx.policy,
    jobs: (values.get(PATHS.jobs) as JobsFile | undefined) ?? { $schema: '../schemas/jobs.schema.json', paused: null, grounded: {}, jobs: [] },
    locks: (values.get(PATHS.locks) as LocksFile | undefined) ?? { $schema: '../schemas/locks.schema.json', locks: {} },
    schedules: (values.get(PATHS.schedules) as SchedulesFile | undefined) ?? { $schema: '../schemas/schedules.schema.json', schedules: [] },
    ownStatus: (values.get(statusPath(builder)) as StatusFile | undefined) ?? null,
  };
}
