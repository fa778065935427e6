/**
 * Section `dashboard` (issue 10: "under 100 ms to render for 50 builders and 10,000 jobs"):
 * the pure part of `coord dashboard` — view model (lib/dashboard/model.ts), page
 * (render.ts) and health_dashboard.json (aggregate.ts, with schema validation) — on
 * synthetic fleets built in memory, no git. Each size runs `runs` times after three warm-ups.
 *
 * The synthetic queue: one running job per builder, 10 % queued, 3 % failed, 1 % blocked, the
 * rest completed with one or two attempts spread over the last 7 days; 200 messages, 5 locks;
 * builders of mixed health. Reading from git is not timed here (`coord status` costs the same).
 */
import { DEFAULT_POLICY } from '../config/policy.js';
import { buildHealthDashboard, validateHealthDashboard } from '../dashboard/aggregate.js';
import { buildDashboardModel, type DashboardData } from '../dashboard/model.js';
import { renderPage } from '../dashboard/render.js';
import { makeJob, type JobRecord } from '../jobs/model.js';
import type { LockJudge } from '../locks/model.js';
import type { HeartbeatSighting } from '../ops/fleet-status.js';
import type { BuildConfigFile, Message } from '../schemas/types.gen.js';
import { formatTimestamp } from '../util/time.js';
import type { BenchOptions, BenchSection, SectionResult } from './section.js';
import { fmt1, median, quantile } from './stats.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');

/** A deterministic pseudo-random sequence (the same fleet every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

/** A synthetic fleet of `builders` builders and `jobs` jobs in jobs.json (plus `archived` in the archive). */
export function syntheticFleet(builders: number, jobs: number, archived = 0): DashboardData {
  const r = rng(builders * 100_003 + jobs);
  const names = Array.from({ length: builders }, (_, i) => `build${i + 1}`);
  const ts = (ms: number) => formatTimestamp(ms);
  const config: BuildConfigFile = {
    $schema: '../schemas/build_config.schema.json',
    builders: Object.fromEntries(names.map((b, i) => [b, { arch: i % 5 ? 'x86_64' : 'aarch64', labels: i % 3 ? ['deb'] : ['maven'], max_concurrent_jobs: 1 }])),
    job_types: { build: { command: ['make'] }, test: { command: ['make', 'test'] }, deb: { command: ['dpkg-buildpackage'], allowed_builders: names.slice(0, Math.ceil(builders / 2)) } },
  };
  const types = ['build', 'test', 'deb'];
  const make = (i: number, hot: boolean): JobRecord => {
    const id = `job-20261130-${String(i).padStart(6, '0')}-${names[i % builders]}-${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}`;
    const created = NOW - Math.floor(r() * 7 * 86_400_000);
    const j = makeJob({ type: types[i % 3], description: `synthetic job ${i} <with markup & "quotes">`, priority: 1 + (i % 10) }, id, 'bench', created, DEFAULT_POLICY);
    const roll = hot ? r() : 0.5;
    const b = names[Math.floor(r() * builders)];
    const dur = 30 + Math.floor(r() * 900);
    const end = Math.min(NOW, created + dur * 1000 + 60_000);
    const attempt = (n: number, builder: string, status: 'completed' | 'failed', endAt: number) => ({ attempt: n, builder, claimed_at: ts(endAt - dur * 1000), ended_at: ts(endAt), status, duration_seconds: dur, exit_code: status === 'completed' ? 0 : 2 });
    if (hot && i < builders) return { ...j, status: 'running', assigned_to: names[i], attempt: 1, started_at: ts(NOW - dur * 1000), history: [{ attempt: 1, builder: names[i], claimed_at: ts(NOW - dur * 1000), status: 'running' }] };
    if (roll < 0.10) return j;
    if (roll < 0.13) return { ...j, status: 'failed', attempt: 3, failed_on: [b], error: 'exit 2', completed_at: ts(end), history: [attempt(3, b, 'failed', end)] };
    if (roll < 0.14) {
      const b2 = names[(names.indexOf(b) + 1) % builders];
      return { ...j, status: 'blocked', attempt: 2, failed_on: [b, b2], error: 'exit 1', completed_at: ts(end), history: [attempt(1, b, 'failed', end - 1000 * dur - 5000), attempt(2, b2, 'failed', end)] };
    }
    const retried = r() < 0.1;
    return { ...j, status: 'completed', attempt: retried ? 2 : 1, started_at: ts(end - dur * 1000), completed_at: ts(end), history: retried ? [attempt(1, names[(names.indexOf(b) + 1) % builders], 'failed', end - 1000 * dur - 5000), attempt(2, b, 'completed', end)] : [attempt(1, b, 'completed', end)] };
  };
  const hotJobs = Array.from({ length: jobs }, (_, i) => make(i, true));
  const archivedJobs = Array.from({ length: archived }, (_, i) => make(jobs + i, false));
  const heartbeats: Record<string, HeartbeatSighting> = {};
  names.forEach((b, i) => {
    const age = i % 10 === 9 ? 900 : i % 10 === 8 ? 240 : 5 + (i % 30);
    heartbeats[b] = {
      source: 'ref', seen: { value: `c${i}`, first_seen: NOW - age * 1000, source: 'observed' },
      heartbeat: { $schema: '../schemas/heartbeat.schema.json', builder: b, timestamp: ts(NOW - age * 1000), sequence: 1000 + i, state: i < jobs ? 'building' : 'idle', interval_s: 60, system: { cpu_percent: r() * 100, memory_used_mb: 1000 + r() * 7000, memory_total_mb: 8192, disk_free_mb: r() * 200_000, uptime_s: 86_400 } },
    };
  });
  const messages: Message[] = Array.from({ length: 200 }, (_, i) => ({
    id: `msg-${i}`, from: names[i % builders], to: i % 4 ? 'all' : [names[(i + 1) % builders]], type: 'info', priority: 'normal',
    subject: `message ${i}`, body: `body ${i} <script>alert(${i})</script>`.repeat(3), timestamp: ts(NOW - i * 60_000), read_by: i % 2 ? names.slice(0, 3) : [], acked_by: [],
  }));
  const judge: LockJudge = () => ({ expired: false, remainingMs: 60_000, ttlS: 300, source: 'observed', lastChange: NOW, graceS: 0 });
  return {
    fleet: {
      now: NOW, config, policy: { ...DEFAULT_POLICY },
      jobs: { $schema: '../schemas/jobs.schema.json', paused: null, grounded: { [names[Math.min(3, builders - 1)]]: { by: 'bench', at: ts(NOW - 60_000), reason: 'disk' } }, jobs: hotJobs },
      locks: { $schema: '../schemas/locks.schema.json', locks: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`lock${i}`, { locked_by: names[i % builders], locked_at: ts(NOW - 10_000), expires_at: ts(NOW + 290_000), token: `token${i}xxxxxxxx` }])) },
      messages: { $schema: '../schemas/messages.schema.json', messages },
      statuses: {}, heartbeats, lockJudge: judge,
    },
    archived: archivedJobs,
    source: { commit: 'f'.repeat(40), commitTimeMs: NOW - 10_000, fresh: true, fetchedAtMs: NOW, warnings: [] },
  };
}

export interface DashboardRow {
  builders: number; jobs: number; archived: number;
  model_ms: number; render_ms: number; aggregate_ms: number; total_median_ms: number; total_p90_ms: number; html_kb: number; runs: number;
}

function runDashboard(opts: BenchOptions, _temp: unknown, log: (line: string) => void): Promise<SectionResult> {
  const sizes: [number, number, number][] = [[10, 1000, 0], [50, 10_000, 0], [50, 10_000, 10_000]];
  const rows: DashboardRow[] = [];
  for (const [b, j, a] of sizes) {
    log(`dashboard: ${b} builders, ${j} jobs, ${a} archived × ${opts.runs}`);
    const data = syntheticFleet(b, j, a);
    const model: number[] = [], render: number[] = [], agg: number[] = [], total: number[] = [];
    let bytes = 0;
    for (let i = -3; i < opts.runs; i++) {
      const t0 = performance.now();
      const m = buildDashboardModel(data);
      const t1 = performance.now();
      const html = renderPage(m, { live: false, now: NOW });
      const t2 = performance.now();
      validateHealthDashboard(buildHealthDashboard(m));
      const t3 = performance.now();
      bytes = Buffer.byteLength(html);
      if (i < 0) continue;
      model.push(t1 - t0); render.push(t2 - t1); agg.push(t3 - t2); total.push(t3 - t0);
    }
    rows.push({ builders: b, jobs: j, archived: a, model_ms: median(model), render_ms: median(render), aggregate_ms: median(agg), total_median_ms: median(total), total_p90_ms: quantile(total, 0.9), html_kb: Math.round(bytes / 1024), runs: total.length });
  }
  return Promise.resolve({
    tables: [{
      title: 'Dashboard: model + page + health_dashboard.json, in memory (ms, median of runs; target < 100 ms at 50 builders / 10,000 jobs)',
      head: ['builders', 'jobs', 'archived', 'model', 'page', 'aggregate', 'total median', 'total p90', 'page KB', 'runs'],
      rows: rows.map((x) => [String(x.builders), String(x.jobs), String(x.archived), fmt1(x.model_ms), fmt1(x.render_ms), fmt1(x.aggregate_ms), fmt1(x.total_median_ms), fmt1(x.total_p90_ms), String(x.html_kb), String(x.runs)]),
    }],
    data: { rows },
  });
}

export const dashboardSection: BenchSection = {
  name: 'dashboard',
  description: 'render time of coord dashboard (model, page, health_dashboard.json) for 10/50 builders and 1,000/10,000 jobs',
  run: runDashboard,
};
