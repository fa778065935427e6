/**
 * Section `claim` (issue 9, bench 2): how fast 1, 2, 4, 8 real builder daemons drain a
 * queue of no-op jobs (type `noop`, command `["true"]`) from one local bare remote, and
 * whether the queue stays right under contention.
 *
 * Each run: a fresh bare remote; the jobs committed with plain git; N daemon processes
 * (lib/bench/claim-worker.ts, each its own clone) started behind a barrier; wall time from
 * the start signal until the origin's jobs.json shows every job completed.
 *
 * - single-ref ceiling: every change is a fast-forward of one ref, so main takes at most
 *   1 / (median transaction time) commits per second; the median is that of the 1-daemon
 *   run's committed claim and complete transactions (uncontended), measured in this run.
 *   The ratio is the commits per second main actually took ÷ that ceiling.
 * - duplicate claims: `job.claim` commits naming the same (job, attempt) twice (from history).
 * - lost jobs: jobs not completed at the end, or missing from jobs.json.
 * - worst attempts: the most attempts one transaction needed (from every daemon's events).
 */
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { git } from '../git/run.js';
import { makeJob } from '../jobs/model.js';
import { DEFAULT_POLICY } from '../config/policy.js';
import { PATHS } from '../store/kinds.js';
import type { BuildConfigFile } from '../schemas/types.gen.js';
import type { TxEvent } from '../tx/transaction.js';
import { readCoordLog, repeatedPerAttempt } from '../demo/coord-log.js';
import { BENCH_IDENTITY, makeBenchRemote } from './remote.js';
import type { BenchOptions, BenchSection, SectionResult } from './section.js';
import { fmt1, fmt2, median, quantile } from './stats.js';
import type { TempDirs } from './temp-dirs.js';

const WORKER = fileURLToPath(new URL('./claim-worker.js', import.meta.url));
const POLL_MS = 200;

export interface ClaimRun {
  daemons: number;
  jobs: number;
  completed: number;
  wall_s: number;
  jobs_per_s: number;
  main_commits: number;
  commits_per_s: number;
  duplicate_claims: number;
  completed_twice: number;
  reclaims: number;
  lost_jobs: number;
  transactions: number;
  worst_attempts: number;
  retries: number;
  contention_errors: number;
  tx_median_ms: number;
  tx_p95_ms: number;
  /** Median of committed claim/complete transactions (the ceiling's base in the 1-daemon run). */
  claim_complete_median_ms: number;
  timed_out: boolean;
}

/** Commits the job queue (and a policy for a quick drain) with plain git, as an operator would. */
async function seedJobs(clone: string, count: number, builders: number): Promise<void> {
  const cfgFile = path.join(clone, PATHS.buildConfig);
  const cfg = JSON.parse(await fs.readFile(cfgFile, 'utf8')) as BuildConfigFile;
  cfg.policy = { ...(cfg.policy ?? {}), heartbeat_interval_s: 5, main_heartbeat_every_s: 3600, lease_ttl_s: 120, clock_skew_s: 5 };
  cfg.job_types = { ...(cfg.job_types ?? {}), noop: { command: ['true'], timeout_s: 60 } };
  for (const b of Object.keys(cfg.builders)) cfg.builders[b] = { ...cfg.builders[b], max_cpu_percent: 100, max_memory_percent: 100 };
  await fs.writeFile(cfgFile, JSON.stringify(cfg, null, 2) + '\n');
  const jobsFile = path.join(clone, PATHS.jobs);
  const doc = JSON.parse(await fs.readFile(jobsFile, 'utf8')) as { jobs: unknown[] };
  const t0 = Date.now() - count * 1000;
  for (let i = 0; i < count; i++) {
    doc.jobs.push(makeJob({ type: 'noop', priority: 5, description: `no-op ${i}` }, `job-bench-${String(i).padStart(5, '0')}`, 'bench', t0 + i * 1000, { ...DEFAULT_POLICY }));
  }
  await fs.writeFile(jobsFile, JSON.stringify(doc, null, 2) + '\n');
  await git(clone, ['add', '-A']);
  await git(clone, [...BENCH_IDENTITY, 'commit', '-q', '-m', `queue ${count} no-op jobs for ${builders} daemon(s)`]);
  await git(clone, ['push', '-q', 'origin', 'HEAD:main']);
}

interface JobLite { id: string; status: string; attempt: number }

async function jobsOnOrigin(origin: string): Promise<JobLite[]> {
  const r = await git(origin, ['show', `main:${PATHS.jobs}`], { allowFailure: true });
  if (r.exitCode !== 0) return [];
  return (JSON.parse(r.stdout) as { jobs: JobLite[] }).jobs;
}

async function countCommits(origin: string): Promise<number> {
  return Number((await git(origin, ['rev-list', '--count', 'main'])).stdout.trim());
}

/** One run: `n` daemons drain `count` jobs. */
export async function claimRun(temp: TempDirs, n: number, count: number, log: (l: string) => void, timeoutMs = 900_000): Promise<ClaimRun> {
  const dir = temp.make(`claim-d${n}`);
  try {
    const names = Array.from({ length: n }, (_, i) => `build${i + 1}`);
    const remote = await makeBenchRemote(dir, Math.max(n, 2), [...names, 'seed']);
    await seedJobs(remote.clones.seed, count, n);
    const before = await countCommits(remote.origin);
    const workers = names.map((b) => {
      const events = path.join(dir, `${b}.events.jsonl`);
      const p = execa(process.execPath, [WORKER, remote.clones[b], b, events, path.join(dir, `${b}.log`), String(POLL_MS)], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit', buffer: false, reject: false });
      const ready = new Promise<void>((resolve) => p.stdout.on('data', (c: Buffer) => { if (c.toString().includes('ready')) resolve(); }));
      return { b, p, ready, events };
    });
    await Promise.all(workers.map((w) => w.ready));
    const t0 = performance.now();
    for (const w of workers) w.p.stdin.end('go\n');
    let jobs: JobLite[] = [];
    let timedOut = false;
    let lastDone = -1;
    for (;;) {
      jobs = await jobsOnOrigin(remote.origin);
      const done = jobs.filter((j) => j.status === 'completed').length;
      if (done === count) break;
      if (performance.now() - t0 > timeoutMs) { timedOut = true; break; }
      if (done !== lastDone && done % 50 === 0) log(`claim: ${n} daemon(s): ${done}/${count} completed after ${fmt1((performance.now() - t0) / 1000)} s`);
      lastDone = done;
      await new Promise((r) => setTimeout(r, 100));
    }
    const wallS = (performance.now() - t0) / 1000;
    const after = await countCommits(remote.origin);
    for (const w of workers) w.p.kill('SIGTERM');
    setTimeout(() => { for (const w of workers) w.p.kill('SIGKILL'); }, 15_000).unref();
    await Promise.all(workers.map((w) => w.p));
    const events: TxEvent[] = workers.flatMap((w) => {
      try {
        return readFileSync(w.events, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as TxEvent);
      } catch { return []; }
    });
    const hist = await readCoordLog(remote.origin);
    const claimsDup = repeatedPerAttempt(hist, 'job.claim');
    const completeDup = repeatedPerAttempt(hist, 'job.complete');
    const core = events.filter((e) => e.status === 'committed' && (e.action === 'job.claim' || e.action === 'job.complete')).map((e) => e.ms);
    const all = events.filter((e) => e.status !== 'error').map((e) => e.ms);
    const completed = jobs.filter((j) => j.status === 'completed').length;
    return {
      daemons: n, jobs: count, completed, wall_s: wallS, jobs_per_s: completed / wallS,
      main_commits: after - before, commits_per_s: (after - before) / wallS,
      duplicate_claims: claimsDup.reduce((s, d) => s + d.count - 1, 0), completed_twice: completeDup.reduce((s, d) => s + d.count - 1, 0),
      reclaims: jobs.filter((j) => j.attempt > 1).length,
      lost_jobs: count - completed,
      transactions: events.length, worst_attempts: Math.max(0, ...events.map((e) => e.attempts)),
      retries: events.reduce((s, e) => s + Math.max(0, e.attempts - 1), 0), contention_errors: events.filter((e) => e.status === 'error').length,
      tx_median_ms: median(all), tx_p95_ms: quantile(all, 0.95), claim_complete_median_ms: median(core), timed_out: timedOut,
    };
  } finally {
    temp.remove(dir);
  }
}

async function runClaim(opts: BenchOptions, temp: TempDirs, log: (line: string) => void): Promise<SectionResult> {
  const runs: ClaimRun[] = [];
  const counts = [...new Set([1, ...opts.daemons])].sort((a, b) => a - b);
  for (const n of counts) {
    log(`claim: ${n} daemon(s) draining ${opts.jobs} no-op jobs`);
    runs.push(await claimRun(temp, n, opts.jobs, log));
  }
  const base = runs.find((r) => r.daemons === 1)!;
  const ceiling = 1000 / base.claim_complete_median_ms;
  return {
    tables: [{
      title: `Claim throughput: N daemons drain ${opts.jobs} no-op jobs from one local bare remote (single-ref ceiling ${fmt2(ceiling)} commits/s = 1 / ${fmt1(base.claim_complete_median_ms)} ms, the median claim/complete transaction of the 1-daemon run)`,
      head: ['daemons', 'done', 'wall s', 'jobs/s', 'main commits', 'commits/s', 'ratio to ceiling', 'dup claims', 'completed twice', 'lost', 're-claimed', 'worst attempts', 'retries', 'contention errors', 'tx p50 ms', 'tx p95 ms'],
      rows: runs.map((r) => [String(r.daemons), `${r.completed}/${r.jobs}${r.timed_out ? ' (timeout)' : ''}`, fmt1(r.wall_s), fmt2(r.jobs_per_s), String(r.main_commits), fmt2(r.commits_per_s), fmt2(r.commits_per_s / ceiling),
        String(r.duplicate_claims), String(r.completed_twice), String(r.lost_jobs), String(r.reclaims), String(r.worst_attempts), String(r.retries), String(r.contention_errors), fmt1(r.tx_median_ms), fmt1(r.tx_p95_ms)]),
    }],
    data: { ceiling_commits_per_s: ceiling, ceiling_tx_ms: base.claim_complete_median_ms, runs },
  };
}

export const claimSection: BenchSection = {
  name: 'claim',
  description: 'N real daemons (1, 2, 4, 8) drain no-op jobs: jobs/s, ratio to the single-ref ceiling, duplicate claims, lost jobs, worst attempts',
  run: runClaim,
};
