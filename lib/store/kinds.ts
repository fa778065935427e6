/**
 * Which coordination file a repository path is (DESIGN.md section 1 layout).
 */

export type FileKind =
  | 'jobs' | 'locks' | 'messages' | 'schedules' | 'archive'
  | 'status' | 'heartbeat' | 'build_config' | 'health_dashboard' | 'artifacts';

/** The fixed paths of the shared files, relative to the repository root. */
export const PATHS = {
  jobs: 'coordination/jobs.json',
  locks: 'coordination/locks.json',
  messages: 'coordination/messages.json',
  schedules: 'coordination/schedules.json',
  buildConfig: 'shared/build_config.json',
  healthDashboard: 'shared/health_dashboard.json',
  artifacts: 'shared/artifacts.json',
} as const;

export const BUILDER_DIR_RE = /^build[1-9][0-9]{0,3}$/;

/** `build<N>/status.json` */
export function statusPath(builder: string): string {
  return `${builder}/status.json`;
}
/** `build<N>/heartbeat.json` */
export function heartbeatPath(builder: string): string {
  return `${builder}/heartbeat.json`;
}
/** `build<N>/logs/<job-id>.log` */
export function logPath(builder: string, jobId: string): string {
  return `${builder}/logs/${jobId}.log`;
}
/** `coordination/archive/<kind>-YYYY-MM.json` */
export function archivePath(kind: 'jobs' | 'messages', month: string): string {
  return `coordination/archive/${kind}-${month}.json`;
}

const FIXED: Record<string, FileKind> = {
  [PATHS.jobs]: 'jobs',
  [PATHS.locks]: 'locks',
  [PATHS.messages]: 'messages',
  [PATHS.schedules]: 'schedules',
  [PATHS.buildConfig]: 'build_config',
  [PATHS.healthDashboard]: 'health_dashboard',
  [PATHS.artifacts]: 'artifacts',
};

/**
 * The kind of a repository-relative path ('/'-separated), or null when the path is not a
 * coordination file.
 */
export function kindOfPath(rel: string): FileKind | null {
  const fixed = FIXED[rel];
  if (fixed) return fixed;
  if (/^coordination\/archive\/(jobs|messages)-[0-9]{4}-[0-9]{2}\.json$/.test(rel)) return 'archive';
  const m = /^([^/]+)\/(status|heartbeat)\.json$/.exec(rel);
  if (m && BUILDER_DIR_RE.test(m[1])) return m[2] as 'status' | 'heartbeat';
  return null;
}

/** The builder a builder-owned path belongs to (`build2/logs/x.log` → `build2`), else null. */
export function ownerOfPath(rel: string): string | null {
  const first = rel.split('/')[0] ?? '';
  return BUILDER_DIR_RE.test(first) && rel.includes('/') ? first : null;
}

/** The `$schema` value a file at `rel` carries: a relative path into `schemas/`. */
export function schemaRefFor(rel: string, schemaFile: string): string {
  const depth = rel.split('/').length - 1;
  return `${'../'.repeat(depth)}schemas/${schemaFile}`;
}

/** Every fixed coordination path plus the per-builder files for `builders`. */
export function expectedPaths(builders: readonly string[]): string[] {
  return [
    ...Object.values(PATHS),
    ...builders.flatMap((b) => [statusPath(b), heartbeatPath(b)]),
  ];
}
