/**
 * The dashboard's view model (issue 10): everything the fleet page shows, computed purely
 * from what was read (a {@link FleetInput} as `coord status` reads it, the archived jobs, and
 * where the data came from) and the observer's now. The same document is served as JSON at
 * `/api/status`; lib/dashboard/render.ts turns it into HTML.
 *
 * Health and ages are those of `coord status` (lib/ops/fleet-status.ts: judged by this
 * observer's own elapsed time, DESIGN.md section 5); "why is it waiting" is
 * lib/ops/job-explain.ts; queue positions and waits are lib/ops/queue-stats.ts.
 */
import type { Health } from '../heartbeat/observe.js';
import type { JobRecord } from '../jobs/model.js';
import type { LockView } from '../locks/model.js';
import { byTime, configuredBuilders, formatTo, isReadBy, recipientsOf } from '../messages/model.js';
import { fleetStatus, type BuilderStatusView, type FleetInput } from '../ops/fleet-status.js';
import { explainQueued } from '../ops/job-explain.js';
import { jobDurationS, queuePlaces, RECENT } from '../ops/queue-stats.js';
import { formatTimestamp, parseTimestamp } from '../util/time.js';

/** Where the data on the page came from, and how old it is. */
export interface DashboardSource {
  /** The commit of the remote's main the files were read from (null: nothing fetched yet). */
  commit: string | null;
  /** Commit time of `commit` (epoch ms, the committer's clock), or null. */
  commitTimeMs: number | null;
  /** True when the last fetch from the remote succeeded. */
  fresh: boolean;
  /** Observer's epoch ms of the last successful fetch, or null when not known. */
  fetchedAtMs: number | null;
  /** Why the data may be behind (remote unreachable, invalid optional files, refresh errors). */
  warnings: string[];
}

/** What {@link buildDashboardModel} is made from. */
export interface DashboardData {
  fleet: FleetInput;
  /** Finished jobs from `coordination/archive/jobs-*.json` (chart and recent jobs). */
  archived: readonly JobRecord[];
  source: DashboardSource;
}

/** Limits of what the page lists. */
export interface DashboardOptions {
  /** Days of history in the per-builder chart. Default 7. */
  chartDays: number;
  /** Most recent attempts drawn per builder. Default 100. */
  chartPointsPerBuilder: number;
  /** Queued jobs listed (each with its "why is it waiting"). Default 50. */
  queuedShown: number;
  /** Failed and blocked jobs listed, each. Default 20. */
  stuckShown: number;
  /** Recent finished jobs listed. Default 20. */
  recentShown: number;
  /** Latest messages listed. Default 10. */
  messagesShown: number;
  /** Characters of a message body shown. Default 600. */
  bodyChars: number;
}

export const DEFAULT_DASHBOARD_OPTIONS: Readonly<DashboardOptions> = Object.freeze({
  chartDays: 7, chartPointsPerBuilder: 100, queuedShown: 50, stuckShown: 20, recentShown: 20, messagesShown: 10, bodyChars: 600,
});

/** One builder card: the `coord status` view plus its configuration. */
export interface BuilderCard extends BuilderStatusView {
  arch: string | null;
  labels: string[];
  max_concurrent_jobs: number;
}

/** One job row of the queue section. */
export interface QueueJob {
  id: string;
  type: string;
  priority: number;
  description: string;
  status: string;
  /** The holder (running) or the builder of the last attempt, else null. */
  builder: string | null;
  attempt: number;
  max_attempts: number;
  created_at: string;
  created_by: string;
  /** Seconds it has run (running jobs), else null. */
  elapsed_s: number | null;
  /** 1-based queue position (queued jobs), else null. */
  position: number | null;
  /** Rough seconds until a builder takes it (queued; lib/ops/queue-stats), null when unknown. */
  estimated_wait_s: number | null;
  /** Queued: why it is waiting (lib/ops/job-explain); failed/blocked: the last error. */
  why: string | null;
  failed_on: string[];
}

export interface QueueView {
  paused: { by: string; at: string; reason: string | null } | null;
  /** Count per job status (all jobs of jobs.json). */
  totals: Record<string, number>;
  running: QueueJob[];
  queued: QueueJob[];
  failed: QueueJob[];
  blocked: QueueJob[];
  /** Jobs of each list left out by the limits. */
  hidden: { running: number; queued: number; failed: number; blocked: number };
}

/** A finished job. */
export interface RecentJob {
  id: string;
  type: string;
  description: string;
  /** completed, failed, cancelled or blocked. */
  result: string;
  builder: string | null;
  attempts: number;
  /** Seconds of the last attempt (or start to end), null when unknown. */
  duration_s: number | null;
  ended_at: string | null;
}

/** One attempt in the chart. */
export interface ChartPoint {
  /** End time, epoch ms. */
  t: number;
  duration_s: number;
  /** completed | failed | timed_out | cancelled | lease_lost | requeued */
  result: string;
  job: string;
}

export interface BuilderChart {
  builder: string;
  /** Attempts ended in the window, by result. */
  counts: Record<string, number>;
  total: number;
  /** Median seconds of the completed attempts in the window, null when none. */
  median_completed_s: number | null;
  /** The most recent attempts (at most `chartPointsPerBuilder`), oldest first. */
  points: ChartPoint[];
}

export interface ChartView {
  days: number;
  /** Window start and end, epoch ms. */
  from: number;
  to: number;
  builders: BuilderChart[];
}

export interface MessageRow {
  id: string;
  from: string;
  to: string;
  type: string;
  priority: string;
  subject: string;
  body: string;
  /** The body was cut at `bodyChars`. */
  truncated: boolean;
  timestamp: string;
  /** Recipients who have not read it. */
  unread_by: string[];
}

/** The whole page as data (also the `/api/status` document). */
export interface DashboardModel {
  /** Observer's now when the model was built. */
  generated_at: string;
  source: {
    commit: string | null;
    commit_time: string | null;
    fresh: boolean;
    fetched_at: string | null;
    /** Seconds since the last successful fetch at `generated_at`, null when unknown. */
    fetched_age_s: number | null;
    warnings: string[];
  };
  summary: {
    builders: number;
    health: Record<Health, number>;
    queue: Record<string, number>;
    paused: boolean;
    locks_held: number;
    /** Messages some recipient has not read; null when messages.json is unreadable. */
    unread_messages: number | null;
  };
  builders: BuilderCard[];
  queue: QueueView;
  recent: RecentJob[];
  chart: ChartView;
  locks: LockView[];
  messages: { total: number; shown: MessageRow[] };
}

const HEALTHS: readonly Health[] = ['healthy', 'degraded', 'grounded', 'stale', 'offline', 'unknown'];

const CANONICAL_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * Timestamp → epoch ms. Files on main hold the canonical form (`2026-11-30T19:37:28Z`), which
 * the engine's own `Date.parse` reads exactly and several times faster than the general
 * parser (lib/util/time.ts parseTimestamp, used for every other form): on 10,000 jobs this is
 * most of the model's time.
 */
function timeParser(): (s: string | null | undefined) => number | null {
  return (s) => {
    if (!s) return null;
    if (CANONICAL_TS.test(s)) {
      const v = Date.parse(s);
      if (!Number.isNaN(v)) return v;
    }
    return parseTimestamp(s);
  };
}

const lastAttempt = (j: JobRecord) => (j.history.length ? j.history[j.history.length - 1] : null);

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function queueJob(j: JobRecord, now: number): QueueJob {
  const last = lastAttempt(j);
  return {
    id: j.id, type: j.type, priority: j.priority, description: j.description, status: j.status,
    builder: j.assigned_to ?? last?.builder ?? null, attempt: j.attempt, max_attempts: j.max_attempts,
    created_at: j.created_at, created_by: j.created_by,
    elapsed_s: j.status === 'running' ? jobDurationS(j, now) : null,
    position: null, estimated_wait_s: null,
    why: j.status === 'failed' || j.status === 'blocked' ? (j.error ?? last?.error ?? null) : null,
    failed_on: [...j.failed_on],
  };
}

/** Newest first by `completed_at` (then `created_at`), the top `n`, without re-parsing in the sort. */
function newestFinished(jobs: readonly JobRecord[], n: number, t: (s: string | null | undefined) => number | null): JobRecord[] {
  return jobs.map((j) => ({ j, at: t(j.completed_at) ?? t(j.created_at) ?? 0 }))
    .sort((a, b) => b.at - a.at || (a.j.id < b.j.id ? 1 : -1))
    .slice(0, n).map((x) => x.j);
}

/**
 * The jobs holding each type's last {@link RECENT} completed attempts (ties at the cut kept),
 * all that lib/ops/queue-stats typeDurations reads.
 */
function recentCompleted(jobs: readonly JobRecord[], t: (s: string | null | undefined) => number | null): JobRecord[] {
  const perType = new Map<string, { j: JobRecord; at: number }[]>();
  for (const j of jobs) {
    for (const h of j.history) {
      if (h.status !== 'completed' || typeof h.duration_seconds !== 'number') continue;
      let list = perType.get(j.type);
      if (!list) { list = []; perType.set(j.type, list); }
      list.push({ j, at: t(h.ended_at ?? '') ?? 0 });
    }
  }
  const keep = new Set<JobRecord>();
  for (const list of perType.values()) {
    const cut = list.length > RECENT ? [...list].sort((a, b) => b.at - a.at)[RECENT - 1].at : -Infinity;
    for (const x of list) if (x.at >= cut) keep.add(x.j);
  }
  return jobs.filter((j) => keep.has(j));
}

function queueView(fleet: FleetInput, all: readonly JobRecord[], history: readonly JobRecord[], o: DashboardOptions, t: (s: string | null | undefined) => number | null): QueueView {
  const now = fleet.now;
  const running = all.filter((j) => j.status === 'running')
    .map((j) => ({ j, at: t(j.started_at) ?? 0 })).sort((a, b) => a.at - b.at).map((x) => x.j);
  // Queue order (lib/jobs/model queueOrder: priority, creation time, id) with the times parsed once.
  const queued = all.filter((j) => j.status === 'queued').map((j) => ({ j, at: t(j.created_at) ?? 0 }))
    .sort((a, b) => a.j.priority - b.j.priority || a.at - b.at || (a.j.id < b.j.id ? -1 : a.j.id > b.j.id ? 1 : 0)).map((x) => x.j);
  const failed = all.filter((j) => j.status === 'failed');
  const blocked = all.filter((j) => j.status === 'blocked');
  // Positions and waits of the listed jobs depend only on the running jobs, the queued jobs up
  // to them, and the last RECENT completed attempts per type: giving queuePlaces just those
  // gives the same figures without re-sorting and re-parsing the whole queue.
  const places = queuePlaces([...running, ...queued.slice(0, o.queuedShown)], fleet.config, now, recentCompleted(history, t), fleet.jobs);
  // explainQueued looks at the queue only for running jobs, pauses and groundings; giving it
  // just those keeps "why is it waiting" for 50 jobs × 50 builders cheap on a 10,000-job queue.
  const lean: FleetInput = { ...fleet, jobs: { ...fleet.jobs, jobs: running } };
  const shownQueued = queued.slice(0, o.queuedShown).map((j, i) => {
    const p = places.get(j.id);
    return { ...queueJob(j, now), position: p ? p.position : i + 1, estimated_wait_s: p?.estimated_wait_s ?? null, why: explainQueued(j, lean, i).summary };
  });
  const p = fleet.jobs.paused ?? null;
  const totals: Record<string, number> = {};
  for (const j of all) totals[j.status] = (totals[j.status] ?? 0) + 1;
  return {
    paused: p ? { by: p.by, at: p.at, reason: p.reason ?? null } : null,
    totals,
    running: running.map((j) => queueJob(j, now)),
    queued: shownQueued,
    failed: newestFinished(failed, o.stuckShown, t).map((j) => queueJob(j, now)),
    blocked: newestFinished(blocked, o.stuckShown, t).map((j) => queueJob(j, now)),
    hidden: { running: 0, queued: Math.max(0, queued.length - o.queuedShown), failed: Math.max(0, failed.length - o.stuckShown), blocked: Math.max(0, blocked.length - o.stuckShown) },
  };
}

const FINISHED = new Set(['completed', 'failed', 'cancelled', 'blocked']);

function recentJobs(finished: readonly JobRecord[], o: DashboardOptions, now: number, t: (s: string | null | undefined) => number | null): RecentJob[] {
  return newestFinished(finished, o.recentShown, t).map((j) => {
    const last = lastAttempt(j);
    const d = typeof last?.duration_seconds === 'number' ? last.duration_seconds : jobDurationS(j, now);
    return { id: j.id, type: j.type, description: j.description, result: j.status, builder: last?.builder ?? j.assigned_to ?? null, attempts: j.history.length, duration_s: d, ended_at: j.completed_at ?? last?.ended_at ?? null };
  });
}

const CHARTED = new Set(['completed', 'failed', 'timed_out', 'cancelled', 'lease_lost', 'requeued']);

function chartView(jobs: readonly JobRecord[], builders: readonly string[], o: DashboardOptions, now: number, t: (s: string | null | undefined) => number | null): ChartView {
  const from = now - o.chartDays * 86_400_000;
  const per = new Map<string, ChartPoint[]>(builders.map((b) => [b, []]));
  for (const j of jobs) {
    for (const h of j.history) {
      if (!CHARTED.has(h.status)) continue;
      const end = t(h.ended_at);
      if (end === null || end < from || end > now) continue;
      let d: number | null = typeof h.duration_seconds === 'number' ? h.duration_seconds : null;
      if (d === null) {
        const start = t(h.claimed_at);
        d = start === null ? null : Math.max(0, (end - start) / 1000);
      }
      if (d === null) continue;
      let list = per.get(h.builder);
      if (!list) { list = []; per.set(h.builder, list); }
      list.push({ t: end, duration_s: d, result: h.status, job: j.id });
    }
  }
  const out: BuilderChart[] = [];
  for (const [builder, list] of per) {
    list.sort((a, b) => a.t - b.t);
    const counts: Record<string, number> = {};
    const done: number[] = [];
    for (const p of list) {
      counts[p.result] = (counts[p.result] ?? 0) + 1;
      if (p.result === 'completed') done.push(p.duration_s);
    }
    out.push({ builder, counts, total: list.length, median_completed_s: median(done), points: list.slice(-o.chartPointsPerBuilder) });
  }
  return { days: o.chartDays, from, to: now, builders: out };
}

function messageRows(fleet: FleetInput, o: DashboardOptions): { total: number; shown: MessageRow[]; unread: number | null } {
  const msgs = fleet.messages?.messages ?? [];
  const builders = configuredBuilders(fleet.config);
  let unread = 0;
  for (const m of msgs) if (recipientsOf(m, builders).some((r) => !isReadBy(m, r))) unread++;
  const shown = [...msgs].sort(byTime).reverse().slice(0, o.messagesShown).map((m): MessageRow => {
    const chars = [...m.body];
    return {
      id: m.id, from: m.from, to: formatTo(m.to), type: m.type, priority: m.priority, subject: m.subject,
      body: chars.length > o.bodyChars ? chars.slice(0, o.bodyChars).join('') : m.body, truncated: chars.length > o.bodyChars,
      timestamp: m.timestamp, unread_by: recipientsOf(m, builders).filter((r) => !isReadBy(m, r)),
    };
  });
  return { total: msgs.length, shown, unread: fleet.messages ? unread : null };
}

/**
 * Builds the dashboard model. Pure: the same data and options give the same model.
 * Cost is linear in jobs and attempts, plus `queuedShown` × builders × running jobs for the
 * "why is it waiting" lines (measured by `npm run bench -- dashboard`).
 */
export function buildDashboardModel(data: DashboardData, options: Partial<DashboardOptions> = {}): DashboardModel {
  const o: DashboardOptions = { ...DEFAULT_DASHBOARD_OPTIONS, ...options };
  const fleet = data.fleet;
  const now = fleet.now;
  const t = timeParser();
  const hot = fleet.jobs.jobs as JobRecord[];
  // fleetStatus needs of the queue only the running jobs (current job, slots) and the attempts
  // ended today (jobs today); its queue totals are computed here. Handing it just those keeps
  // it from scanning 10,000 jobs once per builder.
  const today = Math.floor(now / 86_400_000);
  const relevant = hot.filter((j) => j.status === 'running' || j.history.some((h) => {
    const end = t(h.ended_at);
    return end !== null && Math.floor(end / 86_400_000) === today;
  }));
  const status = fleetStatus({ ...fleet, jobs: { ...fleet.jobs, jobs: relevant } });
  // A job is in the hot file or in the archive; if a move was caught half-way, the hot copy wins.
  const hotIds = new Set(hot.map((j) => j.id));
  const archived = data.archived.filter((j) => !hotIds.has(j.id));
  const history = archived.length ? [...hot, ...archived] : hot;

  const builders: BuilderCard[] = status.builders.map((b) => {
    const c = fleet.config?.builders?.[b.builder];
    return { ...b, arch: c?.arch ?? fleet.statuses[b.builder]?.capabilities?.arch ?? null, labels: c?.labels ?? [], max_concurrent_jobs: c?.max_concurrent_jobs ?? 1 };
  });
  const health = Object.fromEntries(HEALTHS.map((h) => [h, 0])) as Record<Health, number>;
  for (const b of builders) health[b.health]++;
  const queue = queueView(fleet, hot, history, o, t);
  const messages = messageRows(fleet, o);
  const s = data.source;
  return {
    generated_at: formatTimestamp(now),
    source: {
      commit: s.commit, commit_time: s.commitTimeMs === null ? null : formatTimestamp(s.commitTimeMs), fresh: s.fresh,
      fetched_at: s.fetchedAtMs === null ? null : formatTimestamp(s.fetchedAtMs),
      fetched_age_s: s.fetchedAtMs === null ? null : Math.max(0, Math.round((now - s.fetchedAtMs) / 1000)),
      warnings: [...s.warnings],
    },
    summary: {
      builders: builders.length, health, queue: queue.totals, paused: queue.paused !== null,
      locks_held: status.locks.filter((l) => !l.expired).length, unread_messages: messages.unread,
    },
    builders,
    queue,
    recent: recentJobs(history.filter((j) => FINISHED.has(j.status)), o, now, t),
    chart: chartView(history, builders.map((b) => b.builder), o, now, t),
    locks: status.locks,
    messages: { total: messages.total, shown: messages.shown },
  };
}
