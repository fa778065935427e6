/**
 * The fleet at a glance (issue 6, `coord status`; reused by `coord dashboard`): per builder
 * its health judged by this observer's own clock (DESIGN.md section 5), heartbeat age and
 * where it came from, state, current job, system figures, jobs done/failed today and unread
 * messages; then queue totals, held locks. Pure: {@link fleetStatus} takes what was read
 * (lib/ops/fleet-read.ts gathers it) and the observer's now.
 */
import type { Policy } from '../config/policy.js';
import { heartbeatHealth, type Health, type SeenValue } from '../heartbeat/observe.js';
import { isGroundingActive, type BuilderFacts, type JobRecord } from '../jobs/model.js';
import { viewLocks, type LockJudge, type LockView } from '../locks/model.js';
import { isAddressedTo, isReadBy, sortBuilders } from '../messages/model.js';
import type { BuildConfigFile, HeartbeatFile, JobsFile, LocksFile, MessagesFile, StatusFile } from '../schemas/types.gen.js';
import { formatDuration, formatTimestamp, parseTimestamp } from '../util/time.js';
import { JOB_STATUSES } from './input.js';

/** A builder's latest heartbeat as this observer saw it. */
export interface HeartbeatSighting {
  heartbeat: HeartbeatFile;
  /** `ref`: refs/coord/heartbeats/build<N>; `main`: build<N>/heartbeat.json on main (no ref yet). */
  source: 'ref' | 'main';
  /** When this observer first saw the current value (observe()). */
  seen: SeenValue;
}

/** Everything {@link fleetStatus} needs. */
export interface FleetInput {
  /** Observer's now (epoch ms). */
  now: number;
  config: BuildConfigFile | null;
  policy: Policy;
  jobs: JobsFile;
  locks: LocksFile;
  /** null when the file is missing or invalid (unread counts are then null). */
  messages: MessagesFile | null;
  /** build<N>/status.json on main, per builder. */
  statuses: Readonly<Record<string, StatusFile | null>>;
  heartbeats: Readonly<Record<string, HeartbeatSighting | null>>;
  /** Judges lock expiry by this observer's clock (locks/model observeLocks). */
  lockJudge: LockJudge;
}

export interface SystemView {
  cpu_percent: number | null;
  memory_percent: number | null;
  memory_used_mb: number | null;
  memory_total_mb: number | null;
  disk_free_mb: number | null;
}

export interface BuilderStatusView {
  builder: string;
  health: Health;
  /** Why the health is not `healthy` (or a note), else null. */
  reason: string | null;
  configured: boolean;
  heartbeat: {
    source: 'ref' | 'main' | 'none';
    /** Seconds since the heartbeat last changed, by this observer's clock. */
    age_s: number | null;
    /** `observed`: this observer saw it change; `timestamp`: estimated from the builder's own clock. */
    age_from: SeenValue['source'] | null;
    timestamp: string | null;
    sequence: number | null;
  };
  state: string | null;
  current_job: { id: string; type: string; attempt: number; elapsed_s: number | null } | null;
  running_jobs: number;
  system: SystemView;
  grounded: { by: string; at: string; reason: string; until: string | null } | null;
  degraded: { since: string; reason: string } | null;
  jobs_today: { completed: number; failed: number };
  unread_messages: number | null;
}

export interface QueueTotals {
  paused: { by: string; at: string; reason: string | null } | null;
  total: number;
  by_status: Record<string, number>;
  /** type → status → count (only non-zero). */
  by_type: Record<string, Record<string, number>>;
}

export interface FleetStatus {
  generated_at: string;
  builders: BuilderStatusView[];
  queue: QueueTotals;
  locks: LockView[];
  /** builder → messages addressed to it (or to all) that it has not read. */
  unread_messages: Record<string, number> | null;
}

/** The active grounding of `builder` (jobs.json `grounded`, `until` not passed), else null. */
export function activeGrounding(jobs: JobsFile, builder: string, now: number): BuilderStatusView['grounded'] {
  const g = jobs.grounded?.[builder];
  if (!isGroundingActive(g, now)) return null;
  return { by: g.by, at: g.at, reason: g.reason, until: g.until ?? null };
}

/**
 * The state to show for a builder: what its heartbeat (or status.json) says, except that
 * `grounded` is shown only while jobs.json grounds it. A grounding whose `until` has passed
 * no longer holds the builder back — it claims again — so it shows as building or idle by
 * the queue, even while the builder's own status still says grounded (third trial).
 */
export function displayState(reported: string | null, grounding: BuilderStatusView['grounded'], runningJobs: number): string | null {
  if (reported === 'grounded' && !grounding) return runningJobs > 0 ? 'building' : 'idle';
  return reported;
}

function systemOf(hb: HeartbeatFile | null, st: StatusFile | null): SystemView {
  const s = hb?.system ?? st?.system ?? {};
  const used = s.memory_used_mb ?? null, total = s.memory_total_mb ?? null;
  return {
    cpu_percent: s.cpu_percent ?? null,
    memory_percent: used !== null && total ? Math.round((used / total) * 1000) / 10 : null,
    memory_used_mb: used, memory_total_mb: total, disk_free_mb: s.disk_free_mb ?? null,
  };
}

/** Jobs this builder runs now according to the queue (the authority), oldest first. */
export function runningOn(jobs: JobsFile, builder: string): JobRecord[] {
  return (jobs.jobs as JobRecord[]).filter((j) => j.status === 'running' && j.assigned_to === builder)
    .sort((a, b) => (parseTimestamp(a.started_at ?? '') ?? 0) - (parseTimestamp(b.started_at ?? '') ?? 0));
}

/** The facts claiming needs about `builder` (lib/jobs/model BuilderFacts), from config, queue and heartbeat. */
export function builderFacts(builder: string, input: Pick<FleetInput, 'config' | 'jobs' | 'statuses' | 'heartbeats' | 'now'>): BuilderFacts {
  const cfg = input.config?.builders?.[builder] ?? {};
  const st = input.statuses[builder] ?? null;
  const sys = systemOf(input.heartbeats[builder]?.heartbeat ?? null, st);
  return {
    builder, arch: cfg.arch ?? st?.capabilities?.arch ?? '', labels: cfg.labels ?? st?.capabilities?.labels ?? [],
    grounded: activeGrounding(input.jobs, builder, input.now) !== null,
    running: runningOn(input.jobs, builder).length, maxConcurrent: cfg.max_concurrent_jobs ?? 1,
    cpuPercent: sys.cpu_percent, memoryPercent: sys.memory_percent,
    maxCpuPercent: cfg.max_cpu_percent ?? 100, maxMemoryPercent: cfg.max_memory_percent ?? 100,
  };
}

/** Heartbeat health of one builder by this observer's clock, with the reason. */
export function builderHealth(builder: string, input: FleetInput): { health: Health; reason: string | null; ageMs: number | null } {
  const sighting = input.heartbeats[builder] ?? null;
  if (!sighting) return { health: 'offline', reason: 'no heartbeat ever seen (no heartbeat ref, no heartbeat.json on main)', ageMs: null };
  const hb = sighting.heartbeat;
  // Sequence 0 is the placeholder `coord init` writes; a real beat starts at 1.
  if (hb.sequence === 0 && hb.state === 'offline') return { health: 'offline', reason: 'never seen: no heartbeat yet (start its daemon: coord daemon, or coord heartbeat from cron)', ageMs: null };
  const ageMs = Math.max(0, input.now - sighting.seen.first_seen);
  const interval = hb.interval_s ?? input.policy.heartbeat_interval_s;
  const base = heartbeatHealth(ageMs, interval, hb.state === 'offline');
  const est = sighting.seen.source === 'timestamp' ? ' (estimated from its own clock)' : '';
  if (base === 'offline') {
    return { health: 'offline', reason: hb.state === 'offline' ? `shut down cleanly; last heartbeat ${formatDuration(ageMs)} ago${est}` : `no heartbeat for ${formatDuration(ageMs)}${est} (offline after ${formatDuration(10 * interval * 1000)})`, ageMs };
  }
  if (base === 'stale') return { health: 'stale', reason: `no heartbeat for ${formatDuration(ageMs)}${est} (stale after ${formatDuration(3 * interval * 1000)})`, ageMs };
  const g = activeGrounding(input.jobs, builder, input.now);
  if (g) return { health: 'grounded', reason: `grounded by ${g.by}: ${g.reason}${g.until ? ` (until ${g.until})` : ''}`, ageMs };
  const st = input.statuses[builder] ?? null;
  if (st?.degraded) return { health: 'degraded', reason: st.degraded.reason, ageMs };
  return { health: 'healthy', reason: null, ageMs };
}

const dayOf = (ms: number) => Math.floor(ms / 86_400_000);

/** Attempts by `builder` that ended on the observer's UTC day, by outcome. */
export function jobsToday(jobs: readonly JobRecord[], builder: string, now: number): { completed: number; failed: number } {
  let completed = 0, failed = 0;
  for (const j of jobs) {
    for (const h of j.history ?? []) {
      if (h.builder !== builder || !h.ended_at) continue;
      const t = parseTimestamp(h.ended_at);
      if (t === null || dayOf(t) !== dayOf(now)) continue;
      if (h.status === 'completed') completed++;
      else if (h.status === 'failed' || h.status === 'timed_out') failed++;
    }
  }
  return { completed, failed };
}

/** Queue totals by status and by type. */
export function queueTotals(jobs: JobsFile): QueueTotals {
  const by_status: Record<string, number> = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0]));
  const by_type: Record<string, Record<string, number>> = {};
  for (const j of jobs.jobs) {
    by_status[j.status] = (by_status[j.status] ?? 0) + 1;
    const t = (by_type[j.type] ??= {});
    t[j.status] = (t[j.status] ?? 0) + 1;
  }
  const p = jobs.paused ?? null;
  return { paused: p ? { by: p.by, at: p.at, reason: p.reason ?? null } : null, total: jobs.jobs.length, by_status, by_type };
}

/** Unread messages per builder: addressed to it (or to all), not in `read_by`. */
export function unreadCounts(messages: MessagesFile, builders: readonly string[]): Record<string, number> {
  return Object.fromEntries(builders.map((b) => [b, messages.messages.filter((m) => isAddressedTo(m, b, builders) && !isReadBy(m, b)).length]));
}

/** The fleet status. Pure. */
export function fleetStatus(input: FleetInput): FleetStatus {
  const configured = Object.keys(input.config?.builders ?? {});
  const names = sortBuilders(new Set([
    ...configured,
    ...Object.keys(input.heartbeats).filter((b) => input.heartbeats[b]),
    ...Object.keys(input.statuses).filter((b) => input.statuses[b]),
  ]));
  const unread = input.messages ? unreadCounts(input.messages, sortBuilders(new Set([...configured, ...names]))) : null;
  const jobs = input.jobs.jobs as JobRecord[];
  const builders = names.map((b): BuilderStatusView => {
    const sighting = input.heartbeats[b] ?? null;
    const st = input.statuses[b] ?? null;
    const hb = sighting?.heartbeat ?? null;
    const { health, reason, ageMs } = builderHealth(b, input);
    const running = runningOn(input.jobs, b);
    const cur = running[0];
    const started = cur?.started_at ? parseTimestamp(cur.started_at) : null;
    return {
      builder: b, health, configured: configured.includes(b),
      reason: configured.includes(b) ? reason : `not in shared/build_config.json${reason ? `; ${reason}` : ''}`,
      heartbeat: {
        source: sighting?.source ?? 'none', age_s: ageMs === null ? null : Math.round(ageMs / 1000),
        age_from: sighting?.seen.source ?? null, timestamp: hb?.timestamp ?? null, sequence: hb?.sequence ?? null,
      },
      state: displayState(hb?.state ?? st?.state ?? null, activeGrounding(input.jobs, b, input.now), running.length),
      current_job: cur ? { id: cur.id, type: cur.type, attempt: cur.attempt, elapsed_s: started === null ? null : Math.max(0, Math.round((input.now - started) / 1000)) } : null,
      running_jobs: running.length,
      system: systemOf(hb, st),
      grounded: activeGrounding(input.jobs, b, input.now),
      degraded: st?.degraded ? { since: st.degraded.since, reason: st.degraded.reason } : null,
      jobs_today: jobsToday(jobs, b, input.now),
      unread_messages: unread ? (unread[b] ?? 0) : null,
    };
  });
  return {
    generated_at: formatTimestamp(input.now),
    builders,
    queue: queueTotals(input.jobs),
    locks: viewLocks(input.locks, input.lockJudge),
    unread_messages: unread,
  };
}
