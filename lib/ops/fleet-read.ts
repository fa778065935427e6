/**
 * Gathering what {@link fleetStatus} needs: fetch main and every heartbeat ref, read the
 * shared files and each builder's status/heartbeat, and record this observer's sightings
 * (heartbeats by commit, locks by `token|expires_at`) in `.git/coord/observations.json`,
 * so that ages are judged by this machine's own elapsed time (DESIGN.md section 5).
 * A builder with no heartbeat ref yet is judged by `build<N>/heartbeat.json` on main.
 */
import { loadObservations, observe, recordObservations, type SeenValue } from '../heartbeat/observe.js';
import { readSeenHeartbeats } from '../heartbeat/refs.js';
import type { RemoteSpec } from '../git/repo.js';
import { observeLocks } from '../locks/model.js';
import type { HeartbeatFile, LocksFile, MessagesFile, StatusFile } from '../schemas/types.gen.js';
import { heartbeatPath, PATHS, schemaRefFor, statusPath } from '../store/kinds.js';
import { parseTimestamp } from '../util/time.js';
import { fleetStatus, type FleetInput, type FleetStatus, type HeartbeatSighting } from './fleet-status.js';
import { jobsDoc, readSnapshot, requireValid, type Snapshot } from './snapshot.js';

export interface FleetRead {
  snapshot: Snapshot;
  input: FleetInput;
}

export interface FleetReadOptions {
  now: number;
  remote?: RemoteSpec;
  /** Skip fetching (tests, or a caller that fetched a moment ago). */
  noFetch?: boolean;
}

/**
 * Reads the fleet and records this observer's sightings.
 * @throws CoordError E_INVALID when jobs.json or locks.json on main is invalid; E_UNREACHABLE when nothing was ever fetched
 */
export async function readFleet(repoRoot: string, o: FleetReadOptions): Promise<FleetRead> {
  const base = [PATHS.jobs, PATHS.locks, PATHS.messages];
  const first = await readSnapshot(repoRoot, base, { now: o.now, heartbeats: true, ...(o.remote ? { remote: o.remote } : {}), ...(o.noFetch ? { noFetch: true } : {}) });
  requireValid(first, [PATHS.jobs, PATHS.locks]);
  const seenRefs = await readSeenHeartbeats(repoRoot);
  const names = new Set([...Object.keys(first.config?.builders ?? {}), ...seenRefs.keys()]);
  const perBuilder = [...names].flatMap((b) => [statusPath(b), heartbeatPath(b)]);
  const second = await readSnapshot(repoRoot, perBuilder, { now: o.now, noFetch: true, ...(o.remote ? { remote: o.remote } : {}) });
  const snapshot: Snapshot = {
    ...first,
    files: new Map([...first.files, ...second.files]),
    issues: [...first.issues, ...second.issues],
    warnings: [...first.warnings],
  };
  for (const i of snapshot.issues) if (i.file !== PATHS.jobs && i.file !== PATHS.locks) snapshot.warnings.push(`${i.file}: ${i.pointer || '/'}: ${i.reason} (ignored)`);

  const obs = await loadObservations(repoRoot);
  const touched: Record<string, SeenValue> = {};
  const heartbeats: Record<string, HeartbeatSighting | null> = {};
  const statuses: Record<string, StatusFile | null> = {};
  for (const b of names) {
    statuses[b] = (snapshot.files.get(statusPath(b)) as StatusFile | null) ?? null;
    const ref = seenRefs.get(b);
    const onMain = (snapshot.files.get(heartbeatPath(b)) as HeartbeatFile | null) ?? null;
    if (ref) {
      touched[b] = observe(obs.heartbeats, b, ref.commit, o.now, parseTimestamp(ref.heartbeat.timestamp));
      heartbeats[b] = { heartbeat: ref.heartbeat, source: 'ref', seen: touched[b] };
    } else if (onMain) {
      touched[b] = observe(obs.heartbeats, b, `main:${onMain.sequence ?? ''}|${onMain.timestamp}`, o.now, parseTimestamp(onMain.timestamp));
      heartbeats[b] = { heartbeat: onMain, source: 'main', seen: touched[b] };
    } else heartbeats[b] = null;
  }
  const locks = (snapshot.files.get(PATHS.locks) as LocksFile | null) ?? { $schema: schemaRefFor(PATHS.locks, 'locks.schema.json'), locks: {} };
  const before = new Set(Object.keys(obs.locks));
  const lockJudge = observeLocks(obs.locks, locks, o.now, snapshot.policy.clock_skew_s);
  await recordObservations(repoRoot, { heartbeats: touched, locks: obs.locks, forgetLocks: [...before].filter((k) => !(k in obs.locks)) });

  return {
    snapshot,
    input: {
      now: o.now, config: snapshot.config, policy: snapshot.policy, jobs: jobsDoc(snapshot), locks,
      messages: (snapshot.files.get(PATHS.messages) as MessagesFile | null) ?? null, statuses, heartbeats, lockJudge,
    },
  };
}

/** Reads the fleet and computes its status (the `coord status` document, for the dashboard too). */
export async function collectFleetStatus(repoRoot: string, o: FleetReadOptions): Promise<FleetStatus & { commit: string | null; fresh: boolean; warnings: string[] }> {
  const r = await readFleet(repoRoot, o);
  return { ...fleetStatus(r.input), commit: r.snapshot.commit, fresh: r.snapshot.fresh, warnings: r.snapshot.warnings };
}
