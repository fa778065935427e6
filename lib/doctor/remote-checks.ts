/**
 * `coord doctor` checks that need the remote: reachable (`git ls-remote` with a timeout),
 * this builder's heartbeat ref fresh, and clock skew against peers' heartbeats. Ages are
 * judged as `coord status` judges them (lib/heartbeat/observe.ts): by this machine's own
 * observation when it has one, else by the heartbeat's timestamp; the sightings are
 * recorded like any observer's.
 */
import { classifyTransportFailure } from '../git/classify.js';
import type { RemoteSpec } from '../git/repo.js';
import { git } from '../git/run.js';
import { loadObservations, observe, recordObservations, type SeenValue } from '../heartbeat/observe.js';
import { HEARTBEAT_FETCH_REFSPEC, heartbeatRef, readSeenHeartbeats, type SeenHeartbeat } from '../heartbeat/refs.js';
import { parseTimestamp } from '../util/time.js';
import { check, judgeClockSkew, judgeHeartbeat, type DoctorCheck, type PeerHeartbeat } from './model.js';

export interface RemoteCheckInput {
  repoRoot: string;
  remote: RemoteSpec;
  builder: string | null;
  now: number;
  timeoutMs: number;
  intervalS: number;
  clockSkewS: number;
  /** How heartbeats should come on this machine (for the heartbeat fix). */
  heartbeatFix: string;
}

export interface RemoteChecks {
  remote: DoctorCheck;
  heartbeat: DoctorCheck;
  clockSkew: DoctorCheck;
}

/** Runs the three checks; when the remote is unreachable the other two say so. */
export async function checkRemote(o: RemoteCheckInput): Promise<RemoteChecks> {
  const url = await git(o.repoRoot, ['remote', 'get-url', o.remote.remote], { allowFailure: true });
  const later = (why: string) => ({ heartbeat: check('heartbeat', 'problem', why, 'fix the remote first'), clockSkew: check('clock-skew', 'skipped', why) });
  if (url.exitCode !== 0) {
    return { remote: check('remote', 'problem', `the clone has no remote "${o.remote.remote}"`, `git -C ${o.repoRoot} remote add ${o.remote.remote} URL`), ...later('no remote') };
  }
  const where = `${o.remote.remote} (${url.stdout.trim()})`;
  const refs = [`refs/heads/${o.remote.branch}`, ...(o.builder ? [heartbeatRef(o.builder)] : [])];
  const ls = await git(o.repoRoot, ['ls-remote', o.remote.remote, ...refs], { allowFailure: true, timeoutMs: o.timeoutMs });
  if (ls.exitCode !== 0) {
    const f = classifyTransportFailure(ls);
    const fix = f.kind === 'auth'
      ? 'check the credentials of the user the daemon runs as (ssh key, deploy key, token): git ls-remote must work for that user without a prompt'
      : 'check the network and the URL (git remote -v); an ssh remote must answer without a prompt (ssh -o BatchMode=yes HOST)';
    return { remote: check('remote', 'problem', `${where} did not answer: ${f.detail.split('\n')[0] ?? f.kind}`, fix), ...later('remote unreachable') };
  }
  const lines = new Map(ls.stdout.split('\n').filter(Boolean).map((l) => { const [sha = '', ref = ''] = l.split('\t'); return [ref, sha] as const; }));
  const remote = lines.has(`refs/heads/${o.remote.branch}`)
    ? check('remote', 'ok', `${where} answers; ${o.remote.branch} at ${lines.get(`refs/heads/${o.remote.branch}`)!.slice(0, 12)}`)
    : check('remote', 'problem', `${where} answers but has no ${o.remote.branch} branch`, `push the coordination tree: git push ${o.remote.remote} ${o.remote.branch}`);
  if (!o.builder) return { remote, heartbeat: check('heartbeat', 'skipped', 'identity unknown'), clockSkew: check('clock-skew', 'skipped', 'identity unknown') };

  const fetched = await git(o.repoRoot, ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', o.remote.remote, HEARTBEAT_FETCH_REFSPEC], { allowFailure: true, timeoutMs: o.timeoutMs });
  const seen = fetched.exitCode === 0 ? await readSeenHeartbeats(o.repoRoot) : new Map<string, SeenHeartbeat>();
  const before = await loadObservations(o.repoRoot);
  const table: Record<string, SeenValue> = { ...before.heartbeats };
  const touched: Record<string, SeenValue> = {};
  const peers: PeerHeartbeat[] = [];
  for (const [b, hb] of seen) {
    const ts = parseTimestamp(hb.heartbeat.timestamp);
    touched[b] = observe(table, b, hb.commit, o.now, ts);
    if (b !== o.builder && ts !== null) peers.push({ builder: b, commit: hb.commit, timestampMs: ts, seenBefore: before.heartbeats[b] ?? null });
  }
  await recordObservations(o.repoRoot, { heartbeats: touched });
  const own = seen.get(o.builder);
  const remoteCommit = lines.get(heartbeatRef(o.builder)) ?? null;
  const heartbeat = judgeHeartbeat({
    builder: o.builder, remoteCommit, seen: own && own.commit === remoteCommit ? touched[o.builder] : null,
    state: own?.heartbeat.state ?? null, intervalS: o.intervalS, now: o.now,
  }, o.heartbeatFix);
  return { remote, heartbeat, clockSkew: judgeClockSkew(peers, o.now, o.clockSkewS, o.intervalS) };
}
