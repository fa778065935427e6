/**
 * Reading the shared files a direct read needs (shared/build_config.json for the ssh
 * settings, shared/artifacts.json for the manifest) from the last fetched `main`, validated
 * the way every other reader validates them. Direct reads are what one uses when the
 * remote cannot be fetched, so nothing here fetches: callers that want a fresh view fetch
 * first ({@link refreshMain}).
 */
import type { Issue } from '../errors.js';
import { CoordError } from '../errors.js';
import { classifyTransportFailure } from '../git/classify.js';
import { DEFAULT_REMOTE, fetchBranch, readFilesAt, resolveCommit, trackingRef, type RemoteSpec } from '../git/repo.js';
import type { BuildConfigFile } from '../schemas/types.gen.js';
import { checkCoordinationFile } from '../store/check.js';
import { contextFromConfigBytes } from '../store/context.js';
import { readRepoFile } from '../store/files.js';
import { PATHS } from '../store/kinds.js';

export interface SharedFiles {
  /** The commit read from, or null when there is no fetched main (the working tree was read). */
  commit: string | null;
  config: BuildConfigFile;
  /** path → validated value (null when missing) for the other paths asked for. */
  files: Map<string, unknown>;
}

/**
 * Fetches `main` (best effort).
 * @returns null when fresh, else a warning line saying the last fetched state is used
 */
export async function refreshMain(repoRoot: string, spec: RemoteSpec = DEFAULT_REMOTE): Promise<string | null> {
  const fail = await fetchBranch(repoRoot, spec);
  if (!fail) return null;
  const line = classifyTransportFailure(fail).detail.split('\n')[0] ?? 'fetch failed';
  return `remote ${spec.remote} not reachable (${line}); using the state as of the last fetch`;
}

function invalid(file: string, issues: Issue[]): CoordError {
  return new CoordError('E_INVALID', `${file} on main is invalid; nothing was sent to any builder. Fix it by hand (coord validate shows where)`, { issues });
}

/**
 * Reads shared/build_config.json and `paths` at the fetched `main` (or, in a clone that
 * never fetched, the working tree).
 * @throws CoordError E_NOT_FOUND when there is no build config; E_INVALID (with the file,
 *   JSON pointer and reason) when it or one of `paths` is invalid
 */
export async function readSharedFiles(repoRoot: string, paths: readonly string[], now: number, spec: RemoteSpec = DEFAULT_REMOTE): Promise<SharedFiles> {
  const commit = await resolveCommit(repoRoot, trackingRef(spec));
  const all = [...new Set([PATHS.buildConfig, ...paths])];
  const bytes = new Map<string, Buffer | null>();
  if (commit) {
    for (const [p, b] of await readFilesAt(repoRoot, commit, all)) bytes.set(p, b);
  } else {
    for (const p of all) bytes.set(p, await readRepoFile(repoRoot, p));
  }
  const configBytes = bytes.get(PATHS.buildConfig) ?? null;
  if (!configBytes) throw new CoordError('E_NOT_FOUND', `${PATHS.buildConfig} is missing${commit ? ' on main' : ''}: the ssh settings of the builders live there (DESIGN.md section 8)`);
  const ctx = contextFromConfigBytes(configBytes, now);
  if (!ctx.config) {
    const r = checkCoordinationFile(PATHS.buildConfig, configBytes, { builders: null, policy: ctx.policy, now });
    throw invalid(PATHS.buildConfig, r.issues.filter((i) => i.severity === 'error'));
  }
  const files = new Map<string, unknown>();
  for (const p of all) {
    if (p === PATHS.buildConfig) continue;
    const b = bytes.get(p) ?? null;
    if (!b) { files.set(p, null); continue; }
    const r = checkCoordinationFile(p, b, ctx);
    if (!r.ok) throw invalid(p, r.issues.filter((i) => i.severity === 'error'));
    files.set(p, r.value);
  }
  return { commit, config: ctx.config, files };
}
