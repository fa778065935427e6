/**
 * A builder's status and heartbeat documents (DESIGN.md section 5), computed from what the
 * daemon knows. Written to `main` only when the content (timestamps and system figures
 * aside) differs from what `main` holds, or when `policy.main_heartbeat_every_s` has
 * passed — so idle heartbeats do not grow `main`'s history.
 */
import type { BuilderState, HeartbeatFile, StatusFile, SystemFigures } from '../schemas/types.gen.js';
import { heartbeatPath, schemaRefFor, statusPath } from '../store/kinds.js';
import { formatTimestamp, parseTimestamp } from '../util/time.js';

export interface StatusInput {
  builder: string;
  state: BuilderState;
  running: { id: string; type: string; attempt: number; started_at: string }[];
  lastBuild: StatusFile['last_build'];
  grounded: StatusFile['grounded'];
  degraded: StatusFile['degraded'];
  consecutiveFailures: number;
  capabilities: NonNullable<StatusFile['capabilities']>;
  system: SystemFigures;
  daemon: StatusFile['daemon'];
  sequence: number;
  intervalS: number;
}

export function buildStatus(i: StatusInput, now: number): StatusFile {
  return {
    $schema: schemaRefFor(statusPath(i.builder), 'status.schema.json'),
    builder: i.builder, state: i.state, updated_at: formatTimestamp(now),
    current_job: i.running[0]?.id ?? null, running_jobs: i.running, last_build: i.lastBuild,
    grounded: i.grounded, degraded: i.degraded, consecutive_failures: i.consecutiveFailures,
    capabilities: i.capabilities, system: i.system, daemon: i.daemon,
  };
}

export function buildHeartbeat(i: StatusInput, now: number): HeartbeatFile {
  return {
    $schema: schemaRefFor(heartbeatPath(i.builder), 'heartbeat.schema.json'),
    builder: i.builder, timestamp: formatTimestamp(now), sequence: i.sequence, state: i.state,
    current_job: i.running[0]?.id ?? null, interval_s: i.intervalS, system: i.system,
  };
}

/** JSON with object keys sorted, so key order never counts as a change. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The part of a status that counts as a state change (no timestamps, no figures). */
function essence(s: Partial<StatusFile> | null): string {
  if (!s) return '';
  const { updated_at: _u, system: _s, $schema: _d, daemon, degraded, grounded, ...rest } = s;
  return stableJson({ ...rest, daemon_pid: daemon?.pid ?? null, degraded: degraded?.reason ?? null, grounded: grounded?.reason ?? null });
}

/** Should `next` be written to `main`, given what `main` holds? */
export function statusNeedsWrite(current: StatusFile | null, next: StatusFile, mainEveryS: number, now: number): boolean {
  if (!current) return true;
  if (essence(current) !== essence(next)) return true;
  const last = parseTimestamp(current.updated_at);
  return last === null || now - last >= mainEveryS * 1000;
}
