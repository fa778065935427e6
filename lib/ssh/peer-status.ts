/**
 * Reading a builder's status and heartbeat straight from the builder over ssh (DESIGN.md
 * section 8), for when git is behind: the remote cannot be fetched, or the builder's
 * heartbeat in git is stale.
 *
 * One ssh call runs `git cat-file --batch` in the builder's clone and asks for its own
 * freshest copies: the offline queue (`refs/coord/pending`, builder-owned commits not yet
 * pushed), its heartbeat ref, its view of main, and its checkout. The heartbeat with the
 * highest `sequence` wins — the builder's own counter, so no clock is compared — and the
 * status is the one written together with the freshest paired heartbeat. Every document
 * is schema-checked (lib/store/check.ts) and must name the builder it was read from.
 */
import type { Issue } from '../errors.js';
import { CoordError } from '../errors.js';
import { DEFAULT_POLICY } from '../config/policy.js';
import { heartbeatRef } from '../heartbeat/refs.js';
import type { BuildConfigFile, HeartbeatFile, StatusFile } from '../schemas/types.gen.js';
import { checkCoordinationFile } from '../store/check.js';
import { heartbeatPath, statusPath } from '../store/kinds.js';
import { PENDING_REF } from '../tx/pending.js';
import { formatTimestamp, parseTimestamp, systemClock, type Clock } from '../util/time.js';
import { parseCatFileBatch } from './batch.js';
import { STATUS_SCRIPT } from './remote.js';
import { sshReadBuffered } from './run.js';
import { sshSettingsFromEnv, type SshSettings } from './settings.js';
import { readSharedFiles } from './shared-files.js';
import { describeTarget, sshTargetOf, type SshTarget } from './target.js';

/** Largest status or heartbeat document accepted from a peer (bytes). */
export const MAX_STATUS_BYTES = 1024 * 1024;

/** Where on the builder a document came from. */
export type PeerSourceRef = 'pending' | 'heartbeat-ref' | 'main' | 'checkout';

interface Candidate { name: PeerSourceRef; rev: string; files: ('status' | 'heartbeat')[] }

/** The builder's refs asked for, freshest first (ties go to the earlier one). */
export function peerCandidates(builder: string): Candidate[] {
  return [
    { name: 'pending', rev: PENDING_REF, files: ['status', 'heartbeat'] },
    { name: 'heartbeat-ref', rev: heartbeatRef(builder), files: ['heartbeat'] },
    { name: 'main', rev: 'refs/remotes/origin/main', files: ['status', 'heartbeat'] },
    { name: 'checkout', rev: 'HEAD', files: ['status', 'heartbeat'] },
  ];
}

export interface PeerStatus {
  builder: string;
  source: 'ssh';
  /** When it was read, by this observer's clock (ISO-8601 UTC). */
  read_at: string;
  /** `user@host:port` read from. */
  host: string;
  status: StatusFile | null;
  heartbeat: HeartbeatFile | null;
  /** Which of the builder's refs each document came from. */
  from: { status: PeerSourceRef | null; heartbeat: PeerSourceRef | null };
  /** Documents skipped (invalid, or naming another builder). */
  warnings: string[];
}

export interface PeerDoc { name: PeerSourceRef; status: StatusFile | null; heartbeat: HeartbeatFile | null }

/**
 * Picks the freshest heartbeat (highest `sequence`) and the status written with the
 * freshest paired heartbeat (then the latest `updated_at`, the builder's own clock against
 * itself). Pure.
 */
export function choosePeerState(docs: readonly PeerDoc[]): { status: StatusFile | null; heartbeat: HeartbeatFile | null; from: PeerStatus['from'] } {
  const seq = (h: HeartbeatFile | null) => h?.sequence ?? -1;
  let hb: PeerDoc | null = null;
  for (const d of docs) if (d.heartbeat && (!hb || seq(d.heartbeat) > seq(hb.heartbeat))) hb = d;
  let st: PeerDoc | null = null;
  const key = (d: PeerDoc): [number, number] => [seq(d.heartbeat), parseTimestamp(d.status?.updated_at ?? '') ?? 0];
  for (const d of docs) {
    if (!d.status) continue;
    if (!st) { st = d; continue; }
    const [a1, a2] = key(d), [b1, b2] = key(st);
    if (a1 > b1 || (a1 === b1 && a2 > b2)) st = d;
  }
  return { status: st?.status ?? null, heartbeat: hb?.heartbeat ?? null, from: { status: st?.name ?? null, heartbeat: hb?.name ?? null } };
}

export interface PeerReadOptions {
  /** Environment for the ssh settings (COORD_SSH_*). Default: the process environment. */
  env?: NodeJS.ProcessEnv;
  /** The build config, when the caller has read it already (else read from the fetched main). */
  config?: BuildConfigFile;
  clock?: Clock;
  /** Deadline of one read, ms. Default: connect timeout + 20 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The ssh target and settings of `builder` (shared by the direct reads). */
export async function resolvePeer(repoRoot: string, builder: string, o: PeerReadOptions = {}): Promise<{ target: SshTarget; settings: SshSettings }> {
  const settings = sshSettingsFromEnv(o.env ?? process.env);
  const config = o.config ?? (await readSharedFiles(repoRoot, [], (o.clock ?? systemClock).now())).config;
  return { target: sshTargetOf(config, builder, repoRoot, settings), settings };
}

function readDeadline(t: SshTarget, o: PeerReadOptions): number {
  return o.timeoutMs ?? (t.connectTimeoutS + 20) * 1000;
}

/** Checks one document the peer sent; pushes a warning and returns null when unusable. */
function checkDoc<T>(builder: string, kind: 'status' | 'heartbeat', from: PeerSourceRef, bytes: Buffer | null, now: number, warnings: string[], issues: Issue[]): T | null {
  if (!bytes) return null;
  const file = kind === 'status' ? statusPath(builder) : heartbeatPath(builder);
  const r = checkCoordinationFile(file, bytes, { builders: null, policy: { ...DEFAULT_POLICY }, now });
  if (!r.ok) {
    const errs = r.issues.filter((i) => i.severity === 'error');
    issues.push(...errs);
    warnings.push(`${file} in ${from} on ${builder} is invalid (${errs[0]?.pointer || '/'}: ${errs[0]?.reason ?? 'invalid'}); skipped`);
    return null;
  }
  const v = r.value as { builder?: string };
  if (v.builder !== builder) {
    warnings.push(`${file} in ${from} on ${builder} names ${JSON.stringify(v.builder)}; skipped`);
    return null;
  }
  return r.value as T;
}

/**
 * Reads `builder`'s status and heartbeat over ssh.
 * @throws CoordError E_USAGE (no ssh settings), E_INVALID (unsafe settings — refused before
 *   connecting — or nothing valid sent), E_NOT_FOUND (no clone at repo_path, or no status
 *   there), E_UNREACHABLE / E_AUTH / E_HOST_KEY / E_SSH_TIMEOUT (exit 6)
 */
export async function readPeerStatus(repoRoot: string, builder: string, o: PeerReadOptions = {}): Promise<PeerStatus> {
  const clock = o.clock ?? systemClock;
  const { target, settings } = await resolvePeer(repoRoot, builder, o);
  const cands = peerCandidates(builder);
  const requests: string[] = [];
  for (const c of cands) for (const f of c.files) requests.push(`${c.rev}:${f === 'status' ? statusPath(builder) : heartbeatPath(builder)}`);
  const out = await sshReadBuffered(target, {
    script: STATUS_SCRIPT, args: [target.repoPath], what: `status of ${builder}`, input: requests.join('\n') + '\n',
  }, { settings, maxBytes: requests.length * (MAX_STATUS_BYTES + 256), timeoutMs: readDeadline(target, o), ...(o.signal ? { signal: o.signal } : {}) });
  const parsed = parseCatFileBatch(out, requests, MAX_STATUS_BYTES);
  if (!parsed.ok) {
    throw new CoordError('E_INVALID', `${builder} (${describeTarget(target)}) answered the status read with something unexpected: ${parsed.reason}`, { details: { builder } });
  }
  const now = clock.now();
  const warnings: string[] = [];
  const issues: Issue[] = [];
  const docs: PeerDoc[] = cands.map((c) => ({
    name: c.name,
    status: c.files.includes('status') ? checkDoc<StatusFile>(builder, 'status', c.name, parsed.blobs.get(`${c.rev}:${statusPath(builder)}`) ?? null, now, warnings, issues) : null,
    heartbeat: checkDoc<HeartbeatFile>(builder, 'heartbeat', c.name, parsed.blobs.get(`${c.rev}:${heartbeatPath(builder)}`) ?? null, now, warnings, issues),
  }));
  const chosen = choosePeerState(docs);
  if (!chosen.status && !chosen.heartbeat) {
    if (issues.length) throw new CoordError('E_INVALID', `${builder} sent no valid status or heartbeat over ssh`, { issues, details: { builder } });
    throw new CoordError('E_NOT_FOUND', `${builder} (${describeTarget(target)}) has no status or heartbeat in its clone at ${target.repoPath} (is repo_path right, and has it run coord heartbeat or the daemon?)`, { details: { builder } });
  }
  return { builder, source: 'ssh', read_at: formatTimestamp(now), host: describeTarget(target), ...chosen, warnings };
}
