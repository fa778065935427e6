/**
 * `coord artifacts get`: copying artifacts from the builder that made them, over ssh
 * (DESIGN.md sections 4 and 8), and proving the copy is the file the job recorded.
 *
 * The file streams into a temp file beside the destination while its sha256 is computed;
 * more bytes than the manifest records stop the copy at once. Only a copy whose size and
 * sha256 both match shared/artifacts.json is renamed into place; any other copy is deleted
 * and the command fails with E_CHECKSUM (exit 3: the bytes are invalid data, whether
 * tampered with or changed on the builder after the job recorded them).
 *
 * The path on the builder is derived, never taken from the manifest's `path` field:
 * `<repo_path>/.git/coord/artifacts/<job>/<name>` with a validated job id and name. A hand
 * edit of the manifest can therefore not make us read an arbitrary file on a builder.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { CoordError, isCoordError } from '../errors.js';
import type { ArtifactsFile } from '../schemas/types.gen.js';
import { ARTIFACT_SCRIPT, remoteArtifactPath } from '../ssh/remote.js';
import { sshReadStream } from '../ssh/run.js';
import { sshSettingsFromEnv } from '../ssh/settings.js';
import { readSharedFiles, refreshMain } from '../ssh/shared-files.js';
import { ARTIFACT_NAME_RE, JOB_ID_RE, sshTargetOf } from '../ssh/target.js';
import { PATHS } from '../store/kinds.js';
import { cryptoRandomHex } from '../util/ids.js';
import { systemClock, type Clock } from '../util/time.js';
import { artifactsToFetch, type ArtifactEntry } from './manifest.js';

export interface FetchedArtifact {
  job_id: string;
  name: string;
  builder: string;
  attempt: number | null;
  /** bytes */
  size: number;
  sha256: string;
  /** Where the verified copy is (absolute). */
  path: string;
  source: 'ssh';
}

export interface ArtifactProgress {
  name: string;
  /** Bytes copied so far. */
  bytes: number;
  /** Bytes expected (from the manifest). */
  total: number;
}

export interface GetArtifactOptions {
  /** Environment for the ssh settings (COORD_SSH_*). Default: the process environment. */
  env?: NodeJS.ProcessEnv;
  /** Skip the fetch of main. */
  noFetch?: boolean;
  clock?: Clock;
  /** Called as bytes arrive (the command line draws progress on a terminal). */
  onProgress?: (p: ArtifactProgress) => void;
  signal?: AbortSignal;
}

function checksumError(e: ArtifactEntry, size: number, sha: string | null, why: string): CoordError {
  const got = sha ? `${size} bytes, sha256 ${sha}` : `more than ${e.size} bytes`;
  return new CoordError('E_CHECKSUM',
    `artifact ${e.name} of job ${e.job_id} from ${e.builder} does not match shared/artifacts.json (${why}): got ${got}, recorded ${e.size} bytes, sha256 ${e.sha256}. The copy was deleted. The file on ${e.builder} was changed after the job recorded it, or tampered with; do not use it`,
    { details: { job: e.job_id, name: e.name, builder: e.builder, expected_size: e.size, expected_sha256: e.sha256, size, sha256: sha } });
}

/** Copies one artifact into `outDir` and verifies it. */
async function fetchOne(e: ArtifactEntry, target: ReturnType<typeof sshTargetOf>, settings: ReturnType<typeof sshSettingsFromEnv>, outDir: string, o: GetArtifactOptions): Promise<FetchedArtifact> {
  const dest = path.join(outDir, e.name);
  const tmp = path.join(outDir, `.${e.name}.${cryptoRandomHex(4)}.part`);
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    const sink = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
    try {
      await sshReadStream(target, {
        script: ARTIFACT_SCRIPT, args: [target.repoPath, e.job_id, e.name],
        what: `artifact ${e.name} of job ${e.job_id}`, remotePath: remoteArtifactPath(target, e.job_id, e.name),
      }, {
        settings, maxBytes: e.size, timeoutMs: 0, sink, ...(o.signal ? { signal: o.signal } : {}),
        onChunk: (c) => { hash.update(c); bytes += c.length; o.onProgress?.({ name: e.name, bytes, total: e.size }); },
      });
    } catch (err) {
      sink.destroy();
      if (isCoordError(err, 'E_INVALID') && err.details.limit === e.size) throw checksumError(e, bytes, null, 'larger than recorded');
      throw err;
    }
    const sha = hash.digest('hex');
    if (bytes !== e.size) throw checksumError(e, bytes, sha, 'size differs');
    if (sha !== e.sha256) throw checksumError(e, bytes, sha, 'sha256 differs');
    const fh = await fs.open(tmp, 'r+');
    try { await fh.sync(); } finally { await fh.close(); }
    await fs.rename(tmp, dest);
  } finally {
    await fs.rm(tmp, { force: true });
  }
  return { job_id: e.job_id, name: e.name, builder: e.builder, attempt: e.attempt ?? null, size: e.size, sha256: e.sha256, path: dest, source: 'ssh' };
}

/**
 * Copies the artifacts of `job` (all, or the one called `name`) into `outDir` over ssh and
 * verifies each against shared/artifacts.json.
 * @returns the verified copies, and warnings (a failed fetch of main)
 * @throws CoordError E_USAGE (bad job id; builder without ssh settings), E_NOT_FOUND (not in
 *   the manifest, or gone from the builder), E_INVALID (an unsafe name or ssh setting —
 *   refused before connecting), E_CHECKSUM (exit 3: size or sha256 differ; the copy is
 *   deleted), E_UNREACHABLE / E_AUTH / E_HOST_KEY / E_SSH_TIMEOUT (exit 6)
 */
export async function getArtifact(repoRoot: string, job: string, name: string | undefined, outDir: string, o: GetArtifactOptions = {}): Promise<{ artifacts: FetchedArtifact[]; warnings: string[] }> {
  if (!JOB_ID_RE.test(job)) throw new CoordError('E_USAGE', `${JSON.stringify(job)} is not a job id`);
  const warnings: string[] = [];
  if (!o.noFetch) {
    const w = await refreshMain(repoRoot);
    if (w) warnings.push(w);
  }
  const shared = await readSharedFiles(repoRoot, [PATHS.artifacts], (o.clock ?? systemClock).now());
  const manifest = shared.files.get(PATHS.artifacts) as ArtifactsFile | null;
  const entries = artifactsToFetch(manifest?.artifacts ?? [], job, name);
  // Every name and target is checked before the first connection.
  for (const e of entries) {
    if (!ARTIFACT_NAME_RE.test(e.name)) {
      throw new CoordError('E_INVALID', `artifact name ${JSON.stringify(e.name)} of job ${job} cannot be fetched over ssh safely (letters, digits and ._+@=,- only, not starting with '.' or '-'); nothing was fetched. Copy it by hand from ${e.builder}`, { details: { job, name: e.name } });
    }
  }
  const settings = sshSettingsFromEnv(o.env ?? process.env);
  const targets = new Map(entries.map((e) => [e.builder, sshTargetOf(shared.config, e.builder, repoRoot, settings)]));
  await fs.mkdir(outDir, { recursive: true });
  const out: FetchedArtifact[] = [];
  for (const e of entries) out.push(await fetchOne(e, targets.get(e.builder)!, settings, outDir, o));
  return { artifacts: out, warnings };
}
