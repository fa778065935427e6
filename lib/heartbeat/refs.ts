/**
 * Heartbeat refs (DESIGN.md section 5): liveness goes to `refs/coord/heartbeats/build<N>`,
 * one parentless commit replaced on each beat with `--force-with-lease=<ref>:<previous>`
 * (never a `+` refspec, which silently overrides the lease). Only that builder writes its
 * ref, so there is no contention and `main`'s history does not grow with every beat.
 */
import type { HeartbeatFile } from '../schemas/types.gen.js';
import { classifyPushFailure, classifyTransportFailure } from '../git/classify.js';
import { commitIdentity, commitTree, readFilesAt, resolveCommit, updateRef, writeTreeWithChanges, type RemoteSpec } from '../git/repo.js';
import { git } from '../git/run.js';
import { checkCoordinationFile } from '../store/check.js';
import { DEFAULT_POLICY } from '../config/policy.js';
import { serializeDocument } from '../store/canonical.js';
import { heartbeatPath } from '../store/kinds.js';

/** The remote ref a builder's heartbeat lives on. */
export function heartbeatRef(builder: string): string {
  return `refs/coord/heartbeats/${builder}`;
}

/** Where fetched heartbeat refs land locally (apart from our own published ref). */
export const SEEN_PREFIX = 'refs/coord/seen-heartbeats/';

/** Refspec that fetches every builder's heartbeat ref (forced: they are replaced, not extended). */
export const HEARTBEAT_FETCH_REFSPEC = `+refs/coord/heartbeats/*:${SEEN_PREFIX}*`;

export interface PublishResult {
  pushed: boolean;
  commit: string;
  /** Why not pushed (remote unreachable…). */
  reason?: string;
}

/**
 * Publishes one heartbeat: a parentless commit holding `build<N>/heartbeat.json`, pushed
 * under a lease on the previous value we published (or saw). A lost lease (our local idea
 * of the previous value was stale, e.g. after a reinstall) is re-read and retried once.
 */
export async function publishHeartbeat(repoRoot: string, spec: RemoteSpec, hb: HeartbeatFile, now: number): Promise<PublishResult> {
  const builder = hb.builder;
  const file = heartbeatPath(builder);
  const tree = await writeTreeWithChanges(repoRoot, null, new Map([[file, serializeDocument('heartbeat', hb)]]));
  const who = await commitIdentity(repoRoot, builder);
  const commit = await commitTree(repoRoot, tree, [], `coord(${builder}): heartbeat ${hb.sequence ?? ''}\n\nCoord-Action: heartbeat\nCoord-Actor: ${builder}\n`, who, now);
  const ref = heartbeatRef(builder);
  for (let attempt = 1; attempt <= 2; attempt++) {
    const prev = (await resolveCommit(repoRoot, ref)) ?? (await resolveCommit(repoRoot, SEEN_PREFIX + builder)) ?? '';
    const r = await git(repoRoot, ['push', '--porcelain', '--no-verify', '--quiet', `--force-with-lease=${ref}:${prev}`, spec.remote, `${commit}:${ref}`], { allowFailure: true, timeoutMs: 30_000 });
    if (r.exitCode === 0) {
      await updateRef(repoRoot, ref, commit);
      return { pushed: true, commit };
    }
    const f = classifyPushFailure(r);
    if (f.kind !== 'non-fast-forward') return { pushed: false, commit, reason: f.detail.split('\n')[0] ?? f.kind };
    // Lease lost: learn the remote's current value and try once more.
    const ls = await git(repoRoot, ['ls-remote', spec.remote, ref], { allowFailure: true, timeoutMs: 30_000 });
    if (ls.exitCode !== 0) return { pushed: false, commit, reason: classifyTransportFailure(ls).detail.split('\n')[0] ?? 'unreachable' };
    const current = ls.stdout.split(/\s+/)[0] ?? '';
    if (current) {
      await git(repoRoot, ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', spec.remote, `+${ref}:${SEEN_PREFIX}${builder}`], { allowFailure: true });
      await updateRef(repoRoot, ref, current).catch(() => undefined);
    } else {
      await git(repoRoot, ['update-ref', '-d', ref], { allowFailure: true });
    }
  }
  return { pushed: false, commit, reason: 'heartbeat ref lease lost twice' };
}

export interface SeenHeartbeat {
  builder: string;
  /** The heartbeat commit: it changes on every beat. */
  commit: string;
  heartbeat: HeartbeatFile;
}

/** Every builder's heartbeat as last fetched (call fetchBranch with HEARTBEAT_FETCH_REFSPEC first). */
export async function readSeenHeartbeats(repoRoot: string): Promise<Map<string, SeenHeartbeat>> {
  const out = new Map<string, SeenHeartbeat>();
  const r = await git(repoRoot, ['for-each-ref', '--format=%(objectname) %(refname)', SEEN_PREFIX], { allowFailure: true });
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [commit = '', ref = ''] = line.split(' ');
    const builder = ref.slice(SEEN_PREFIX.length);
    const file = heartbeatPath(builder);
    const bytes = (await readFilesAt(repoRoot, commit, [file])).get(file) ?? null;
    if (!bytes) continue;
    const c = checkCoordinationFile(file, bytes, { builders: null, policy: { ...DEFAULT_POLICY }, now: Date.now() });
    if (!c.ok) continue;
    out.set(builder, { builder, commit, heartbeat: c.value as HeartbeatFile });
  }
  return out;
}
